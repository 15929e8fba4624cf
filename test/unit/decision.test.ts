import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../config/index.js';
import { decideLocally, decisionIndicators, defaultBusinessHours } from '../../domain/decision.js';
import type { DecisionInput } from '../../domain/decision.js';
import { crimeRateOf, siteCategories } from '../../domain/types.js';
import type { Detection, DetectionCategory, FrameDetections } from '../../domain/types.js';

const labels: Record<DetectionCategory, string> = { person: 'person', vehicle: 'car', weapon: 'knife' };

function seen(category: DetectionCategory, x = 100, height = 250): Detection {
  return { category, label: labels[category], score: 0.9, box: [x, 100, x + 100, 100 + height] };
}

/** An event of `frameCount` frames; `detections[i]` lands in frame i. */
function frames(frameCount: number, detections: Record<number, Detection[]> = {}): FrameDetections[] {
  return Array.from({ length: frameCount }, (_, frameIndex) => ({
    frameIndex,
    width: 1920,
    height: 1080,
    detections: detections[frameIndex] ?? [],
  }));
}

function input(overrides: Partial<DecisionInput>): DecisionInput {
  return {
    sensitivity: 2,
    siteCategory: 'retail',
    vendorTime: '2024-03-15 23:14:00',
    frames: frames(8),
    hasMotion: true,
    frameCount: 8,
    ...overrides,
  };
}

const person = [seen('person')];
const vehicle = [seen('vehicle')];
const weapon = [seen('weapon')];
const twice = (detections: Detection[]) => frames(8, { 2: detections, 3: detections });
/** A vehicle that drives 400 px between frames 2 and 3. */
const drivingVehicle = frames(8, { 2: [seen('vehicle', 100)], 3: [seen('vehicle', 500)] });
const noon = '2024-03-15 12:00:00';

describe('decideLocally', () => {
  // [name, input changes from an 8-frame retail event at 23:14 with motion, 'Decision: indicators']
  const cases: Array<[name: string, given: Partial<DecisionInput>, expected: string]> = [
    ['sensitivity 0: a person', { sensitivity: 0, frames: twice(person) }, 'Maybe: high_sensitivity_presence motion'],
    [
      'sensitivity 0: a still vehicle',
      { sensitivity: 0, frames: twice(vehicle), hasMotion: false },
      'Maybe: high_sensitivity_presence no_motion',
    ],
    [
      'sensitivity 0: people after hours stay Maybe',
      { sensitivity: 0, siteCategory: 'residence', frames: twice(person) },
      'Maybe: high_sensitivity_presence motion',
    ],
    [
      'sensitivity 0: the time does not matter',
      { sensitivity: 0, vendorTime: null, frames: twice(person) },
      'Maybe: high_sensitivity_presence motion',
    ],
    ['sensitivity 0: nothing', { sensitivity: 0, hasMotion: false }, 'No: no_target no_motion'],
    [
      'a weapon in business hours',
      { vendorTime: noon, frames: frames(8, { 4: weapon }) },
      'Yes: weapon_detected motion',
    ],
    [
      'a weapon and a person after hours',
      { frames: twice([...person, ...weapon]) },
      'Yes: weapon_detected person_after_hours motion',
    ],
    [
      'people after hours, standing still',
      { frames: twice(person), hasMotion: false },
      'Yes: person_after_hours no_motion',
    ],
    [
      'one frame of a person after hours, moving',
      { frames: frames(8, { 2: person }) },
      'Yes: person_after_hours motion',
    ],
    [
      'one frame of a person after hours, still scene',
      { frames: frames(8, { 2: person }), hasMotion: false },
      'Maybe: person_single_frame no_motion',
    ],
    ['people in business hours', { vendorTime: noon, frames: twice(person) }, 'Maybe: person_present motion'],
    [
      'people at an unknown time',
      { vendorTime: null, frames: twice(person) },
      'Maybe: person_present time_unknown motion',
    ],
    [
      'people at an unreadable time',
      { vendorTime: '15/03/2024 23:14', frames: twice(person) },
      'Maybe: person_present time_unknown motion',
    ],
    [
      'people at a residence at night',
      { siteCategory: 'residence', vendorTime: '2024-03-15 23:30', frames: twice(person) },
      'Yes: person_after_hours motion',
    ],
    [
      'people at a residence in the afternoon',
      { siteCategory: 'residence', vendorTime: '2024-03-15 15:00', frames: twice(person) },
      'Maybe: person_present motion',
    ],
    [
      'people in a bar at 01:30 (open past midnight)',
      { siteCategory: 'restaurant_bar', vendorTime: '2024-03-16 01:30', frames: twice(person) },
      'Maybe: person_present motion',
    ],
    [
      'people in a bar at 03:00',
      { siteCategory: 'restaurant_bar', vendorTime: '2024-03-16 03:00', frames: twice(person) },
      'Yes: person_after_hours motion',
    ],
    [
      'people in a hotel at 03:00',
      { siteCategory: 'hotel', vendorTime: '2024-03-16 03:00', frames: twice(person) },
      'Maybe: person_present motion',
    ],
    ['a moving vehicle after hours', { frames: drivingVehicle }, 'Maybe: vehicle_after_hours motion'],
    ['a vehicle in one frame after hours', { frames: frames(8, { 5: vehicle }) }, 'Maybe: vehicle_after_hours motion'],
    ['a still vehicle after hours', { frames: twice(vehicle), hasMotion: false }, 'No: vehicle_parked no_motion'],
    [
      'a parked vehicle in a moving scene after hours',
      { frames: frames(8, { 0: vehicle, 1: vehicle, 2: [seen('vehicle', 104)], 4: vehicle }) },
      'No: vehicle_parked motion',
    ],
    [
      'a parked vehicle and one driving past after hours',
      { frames: frames(8, { 0: vehicle, 1: [...vehicle, seen('vehicle', 900)], 2: vehicle }) },
      'Maybe: vehicle_after_hours motion',
    ],
    [
      'a moving vehicle in a still scene',
      { frames: drivingVehicle, hasMotion: false },
      'No: vehicle_parked no_motion',
    ],
    [
      'a person close to the camera after hours',
      { frames: twice([seen('person', 100, 600)]) },
      'Yes: person_after_hours person_close motion',
    ],
    [
      'a person far from the camera in business hours',
      { vendorTime: noon, frames: twice([seen('person', 100, 60)]) },
      'Maybe: person_present person_distant motion',
    ],
    [
      'sensitivity 0 leaves out how close people are',
      { sensitivity: 0, frames: twice([seen('person', 100, 600)]) },
      'Maybe: high_sensitivity_presence motion',
    ],
    ['a vehicle in business hours', { vendorTime: noon, frames: twice(vehicle) }, 'No: vehicle_business_hours motion'],
    [
      'a moving vehicle at an unknown time',
      { vendorTime: null, frames: drivingVehicle },
      'Maybe: vehicle_present time_unknown motion',
    ],
    [
      'a still vehicle at an unknown time',
      { vendorTime: null, frames: twice(vehicle), hasMotion: false },
      'No: vehicle_parked time_unknown no_motion',
    ],
    [
      'people and a vehicle in business hours',
      { vendorTime: noon, frames: twice([...person, ...vehicle]) },
      'Maybe: person_present vehicle_business_hours motion',
    ],
    ['nothing, sensitivity 1', { sensitivity: 1 }, 'No: no_target motion'],
    ['nothing at an unknown time', { vendorTime: null, hasMotion: false }, 'No: no_target no_motion'],
  ];
  for (const [name, given, expected] of cases) {
    it(`${name} → ${expected}`, () => {
      const result = decideLocally(input(given));
      assert.equal(`${result.decision}: ${result.indicators.join(' ')}`, expected);
      assert.equal(result.crimeRate, crimeRateOf[result.decision]);
    });
  }

  const retailHours: Array<[time: string, afterHours: boolean]> = [
    ['07:59', true],
    ['08:00', false],
    ['21:59', false],
    ['22:00', true],
    ['00:00', true],
  ];
  for (const [time, afterHours] of retailHours) {
    it(`retail at ${time} is ${afterHours ? 'after' : 'within'} business hours`, () => {
      const result = decideLocally(input({ vendorTime: `2024-03-15 ${time}`, frames: twice(person) }));
      assert.deepEqual(result.indicators, [afterHours ? 'person_after_hours' : 'person_present', 'motion']);
    });
  }

  it('takes its business hours from the table it is given', () => {
    const alwaysOpen = Object.fromEntries(
      siteCategories.map((category) => [category, { open: 0, close: 24 }]),
    ) as typeof defaultBusinessHours;
    const result = decideLocally(input({ frames: twice(person) }), alwaysOpen);
    assert.equal(result.decision, 'Maybe');
  });

  it('only gives indicators from its documented vocabulary', () => {
    const vocabulary = new Set<string>(decisionIndicators.map(({ indicator }) => indicator));
    assert.equal(vocabulary.size, decisionIndicators.length);
    for (const [, given] of cases) {
      for (const indicator of decideLocally(input(given)).indicators) assert.ok(vocabulary.has(indicator), indicator);
    }
  });
});

describe('decideLocally descriptions', () => {
  const twoPeopleInSix = frames(8, {
    ...Object.fromEntries([0, 1, 2].map((i) => [i, [seen('person'), seen('person', 600)]])),
    ...Object.fromEntries([3, 4, 5].map((i) => [i, person])),
  });
  const cases: Array<[name: string, given: Partial<DecisionInput>, description: string]> = [
    [
      'people after hours',
      { frames: twoPeopleInSix },
      '2 people (across the frame) seen in 6 of 8 frames at 23:14 local time (retail, after hours).',
    ],
    [
      'a person and a vehicle',
      { frames: frames(8, { 0: person, 1: vehicle }) },
      '1 person (on the left) and 1 vehicle (moving) seen in 2 of 8 frames at 23:14 local time (retail, after hours).',
    ],
    [
      'one person in business hours',
      { vendorTime: '2024-03-15 09:05', frames: frames(4, { 1: person }), frameCount: 4 },
      '1 person (on the left) seen in 1 of 4 frames at 09:05 local time (retail, business hours).',
    ],
    [
      'a residence at night',
      { siteCategory: 'residence', vendorTime: '2024-03-15 02:00:00', frames: twice(person) },
      '1 person (on the left) seen in 2 of 8 frames at 02:00 local time (residence, night).',
    ],
    [
      'a residence by day',
      { siteCategory: 'residence', vendorTime: '2024-03-15 13:45:10', frames: twice(person) },
      '1 person (on the left) seen in 2 of 8 frames at 13:45 local time (residence, daytime).',
    ],
    [
      'several kinds',
      {
        siteCategory: 'gas_station',
        frames: frames(6, { 0: [...person, ...weapon], 5: [seen('vehicle'), seen('vehicle', 900)] }),
        frameCount: 6,
      },
      '1 person (on the left), 1 weapon and 2 vehicles (moving) seen in 2 of 6 frames at 23:14 local time (gas station, after hours).',
    ],
    [
      'a person close to the camera on the right and a parked vehicle',
      { frames: frames(8, { 2: [seen('person', 1500, 700), ...vehicle], 3: vehicle }) },
      '1 person (on the right, close to the camera) and 1 vehicle (standing still) seen in 2 of 8 frames at 23:14 local time (retail, after hours).',
    ],
    [
      'a person far away in the middle',
      { frames: twice([seen('person', 900, 50)]) },
      '1 person (in the middle, far from the camera) seen in 2 of 8 frames at 23:14 local time (retail, after hours).',
    ],
    [
      'unknown time',
      { vendorTime: null, frames: twice(person) },
      '1 person (on the left) seen in 2 of 8 frames at an unknown local time (retail).',
    ],
    ['nothing', {}, 'Nothing detected in 8 frames at 23:14 local time (retail, after hours).'],
  ];
  for (const [name, given, description] of cases) {
    it(name, () => assert.equal(decideLocally(input(given)).description, description));
  }
});

describe('decision configuration', () => {
  it('has business hours within a day for every site category', () => {
    for (const category of siteCategories) {
      const hours = defaultBusinessHours[category];
      if (hours === null) continue;
      assert.ok(hours.open >= 0 && hours.open < 24 && hours.close > 0 && hours.close <= 24, category);
    }
  });
});

describe('BUSINESS_HOURS', () => {
  it('keeps the built-in table when unset', () => assert.deepEqual(loadConfig({}).businessHours, defaultBusinessHours));

  it('overrides the categories it names', () => {
    const { businessHours } = loadConfig({ BUSINESS_HOURS: 'retail=9-21, restaurant_bar=17-3,residence=none,other=0-24' });
    assert.deepEqual(businessHours.retail, { open: 9, close: 21 });
    assert.deepEqual(businessHours.restaurant_bar, { open: 17, close: 3 });
    assert.equal(businessHours.residence, null);
    assert.deepEqual(businessHours.other, { open: 0, close: 24 });
    assert.deepEqual(businessHours.office, defaultBusinessHours.office);
    const beforeOpening = decideLocally(input({ vendorTime: '2024-03-15 08:30', frames: twice(person) }), businessHours);
    assert.deepEqual(beforeOpening.indicators, ['person_after_hours', 'motion']);
  });

  for (const value of ['retail=9', 'shop=9-17', 'retail=25-3', 'retail=8-8', 'retail=9-21;office=7-19']) {
    it(`refuses ${value}`, () => {
      assert.throws(() => loadConfig({ BUSINESS_HOURS: value }), (error) => error instanceof ConfigError && /BUSINESS_HOURS/.test(error.message));
    });
  }
});
