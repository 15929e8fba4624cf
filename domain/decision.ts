/**
 * `Local`: the built-in rule engine. Weighs weapons, people (how many, in how many
 * frames, how close and where), vehicles (moving or standing still), motion, the site category and
 * its local time. Deterministic and pure: it may run in workflow code, and the circuit breaker
 * (`Cbr`) falls back to it.
 */
import { iou } from './boxes.js';
import { localHourOf } from './local-time.js';
import { crimeRateOf } from './types.js';
import type { Box, Decision, DetectionCategory, FrameDetections, Sensitivity, SiteCategory } from './types.js';

export const LOCAL_RULES_VERSION = 'local-rules-2';

/** Local opening hours, 0–24; a `close` before `open` runs past midnight (a bar open 10–2). */
export interface BusinessHours {
  open: number;
  close: number;
}

/**
 * When people are expected on site. `null`: no business hours (homes, unknown sites), so only the
 * night (22:00–06:00) counts as after hours. Hotels never close, so people there are never after hours.
 */
export const defaultBusinessHours: Record<SiteCategory, BusinessHours | null> = {
  car_dealership: { open: 8, close: 21 },
  car_wash: { open: 7, close: 21 },
  construction: { open: 6, close: 18 },
  gaming_slots: { open: 9, close: 2 },
  gas_station: { open: 6, close: 23 },
  hotel: { open: 0, close: 24 },
  jewelry: { open: 10, close: 20 },
  logistics_warehouse: { open: 6, close: 22 },
  office: { open: 7, close: 19 },
  other: null,
  residence: null,
  restaurant_bar: { open: 10, close: 2 },
  retail: { open: 8, close: 22 },
  storage: { open: 6, close: 22 },
};

const night: BusinessHours = { open: 22, close: 6 };

/** Every indicator the local rules can give, with what it means. */
export const decisionIndicators = [
  { indicator: 'high_sensitivity_presence', meaning: 'sensitivity 0: something was detected, so the event is a Maybe' },
  { indicator: 'weapon_detected', meaning: 'a weapon (knife, baseball bat) was detected' },
  { indicator: 'person_after_hours', meaning: 'people were seen after business hours (at night where there are none)' },
  { indicator: 'person_single_frame', meaning: 'after hours, a person was seen in one frame only and nothing moved' },
  { indicator: 'person_present', meaning: 'people were seen during business hours, or at an unknown time' },
  { indicator: 'person_close', meaning: 'a person filled a third of the frame height or more: close to the camera' },
  { indicator: 'person_distant', meaning: 'every person was under a twelfth of the frame height: far from the camera' },
  { indicator: 'vehicle_after_hours', meaning: 'a moving vehicle was seen after hours' },
  { indicator: 'vehicle_present', meaning: 'a moving vehicle was seen at an unknown time' },
  {
    indicator: 'vehicle_parked',
    meaning: 'a vehicle stood still (the same place in every frame it was seen in, or a still scene), not known to be in business hours',
  },
  { indicator: 'vehicle_business_hours', meaning: 'a vehicle was seen during business hours' },
  { indicator: 'no_target', meaning: 'no person, vehicle or weapon was detected' },
  { indicator: 'time_unknown', meaning: 'the local time is unknown, so business hours could not be applied' },
  { indicator: 'motion', meaning: 'consecutive frames differed beyond noise' },
  { indicator: 'no_motion', meaning: 'consecutive frames did not differ beyond noise' },
] as const;
export type DecisionIndicator = (typeof decisionIndicators)[number]['indicator'];

export interface DecisionInput {
  sensitivity: Sensitivity;
  siteCategory: SiteCategory;
  /** Site local time, 'YYYY-MM-DD HH:MM[:SS]'; null when unknown. */
  vendorTime: string | null;
  /** Detections after the nuisance filters. */
  frames: FrameDetections[];
  hasMotion: boolean;
  /** Frames in the event (the detections may list fewer). */
  frameCount: number;
}

export interface LocalDecision {
  decision: Decision;
  crimeRate: 0 | 1 | 2;
  indicators: DecisionIndicator[];
  description: string;
}

interface Sighting {
  /** The most seen in any one frame. */
  most: number;
  frames: number;
}

interface RuleOutcome {
  decision: Decision;
  indicator: DecisionIndicator;
}

/** Where the site's local time falls against its business hours. */
export interface SiteTimeStatus {
  /** 'HH:MM', or null when the time is unknown. */
  clock: string | null;
  afterHours: boolean | null;
  period: 'business hours' | 'after hours' | 'daytime' | 'night' | 'unknown time';
}

/** Person boxes at least this tall (fraction of the frame height) are close to the camera. */
const closePersonHeight = 1 / 3;
/** Person boxes all shorter than this are far from the camera. */
const distantPersonHeight = 1 / 12;
/** Vehicle boxes at least this alike (intersection over union) are one vehicle standing still: detector jitter stays above it. */
const stationaryOverlap = 0.8;

function sightingsOf(frames: readonly FrameDetections[], category: DetectionCategory): Sighting {
  const perFrame = frames.map((frame) => frame.detections.filter((d) => d.category === category).length);
  return { most: Math.max(0, ...perFrame), frames: perFrame.filter((count) => count > 0).length };
}

function within(hour: number, { open, close }: BusinessHours): boolean {
  return open <= close ? hour >= open && hour < close : hour >= open || hour < close;
}

function isAfterHours(hour: number, hours: BusinessHours | null): boolean {
  return hours ? !within(hour, hours) : within(hour, night);
}

export function businessHoursAt(vendorTime: string | null, hours: BusinessHours | null): SiteTimeStatus {
  const hour = vendorTime === null ? null : localHourOf(vendorTime);
  if (hour === null || vendorTime === null) return { clock: null, afterHours: null, period: 'unknown time' };
  const afterHours = isAfterHours(hour, hours);
  const period = hours ? (afterHours ? 'after hours' : 'business hours') : afterHours ? 'night' : 'daytime';
  // Only a valid vendor time yields an hour, and its HH:MM sits at a fixed place.
  return { clock: vendorTime.slice(11, 16), afterHours, period };
}

function boxesOf(frame: FrameDetections, category: DetectionCategory): Box[] {
  return frame.detections.filter((d) => d.category === category).map((d) => d.box);
}

/**
 * Vehicles move when the scene moves and a vehicle was seen in one frame only or left its place: some
 * vehicle box has no near-identical box in another frame with vehicles. A detector that misses a parked
 * car in a frame does not make it move.
 */
function vehiclesMoving(frames: readonly FrameDetections[], hasMotion: boolean): boolean {
  if (!hasMotion) return false;
  const perFrame = frames.map((frame) => boxesOf(frame, 'vehicle')).filter((boxes) => boxes.length > 0);
  if (perFrame.length === 1) return true;
  return perFrame.some((boxes) =>
    boxes.some((box) => perFrame.some((others) => !others.some((other) => iou(box, other) >= stationaryOverlap))),
  );
}

interface PersonPlacement {
  /** Thirds of the frame width holding a person's centre. */
  thirds: Set<'on the left' | 'in the middle' | 'on the right'>;
  /** The tallest person box, as a fraction of its frame's height. */
  tallest: number;
}

function personPlacement(frames: readonly FrameDetections[]): PersonPlacement {
  const placement: PersonPlacement = { thirds: new Set(), tallest: 0 };
  for (const frame of frames) {
    for (const [x1, y1, x2, y2] of boxesOf(frame, 'person')) {
      const centre = (x1 + x2) / 2 / frame.width;
      placement.thirds.add(centre < 1 / 3 ? 'on the left' : centre < 2 / 3 ? 'in the middle' : 'on the right');
      placement.tallest = Math.max(placement.tallest, (y2 - y1) / frame.height);
    }
  }
  return placement;
}

function distanceIndicator({ tallest }: PersonPlacement): DecisionIndicator | null {
  if (tallest >= closePersonHeight) return 'person_close';
  return tallest > 0 && tallest < distantPersonHeight ? 'person_distant' : null;
}

function counted(count: number, singular: string, plural: string): string {
  return `${count} ${count === 1 ? singular : plural}`;
}

/** "a", "a and b", "a, b and c". */
function listed(parts: readonly string[]): string {
  return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : (parts[0] ?? '');
}

function describePeople(people: Sighting, placement: PersonPlacement): string {
  const where = placement.thirds.size === 1 ? [...placement.thirds][0]! : 'across the frame';
  const distance = distanceIndicator(placement);
  const how = distance === 'person_close' ? ', close to the camera' : distance === 'person_distant' ? ', far from the camera' : '';
  return `${counted(people.most, 'person', 'people')} (${where}${how})`;
}

function describeEvent(
  input: DecisionInput,
  sightings: Record<DetectionCategory, Sighting>,
  placement: PersonPlacement,
  vehiclesMove: boolean,
  time: SiteTimeStatus,
): string {
  const seen = [
    sightings.person.most > 0 ? describePeople(sightings.person, placement) : null,
    sightings.weapon.most > 0 ? counted(sightings.weapon.most, 'weapon', 'weapons') : null,
    sightings.vehicle.most > 0
      ? `${counted(sightings.vehicle.most, 'vehicle', 'vehicles')} (${vehiclesMove ? 'moving' : 'standing still'})`
      : null,
  ].filter((part) => part !== null);
  const framesWithTargets = input.frames.filter((frame) => frame.detections.length > 0).length;
  const what =
    seen.length > 0
      ? `${listed(seen)} seen in ${framesWithTargets} of ${input.frameCount} frames`
      : `Nothing detected in ${input.frameCount} frames`;
  const category = input.siteCategory.replace(/_/g, ' ');
  if (time.clock === null) return `${what} at an unknown local time (${category}).`;
  return `${what} at ${time.clock} local time (${category}, ${time.period}).`;
}

function personOutcome(people: Sighting, afterHours: boolean | null, hasMotion: boolean): RuleOutcome | null {
  if (people.frames === 0) return null;
  if (afterHours !== true) return { decision: 'Maybe', indicator: 'person_present' };
  // One frame and a still scene is more often a shadow or a poster than an intruder.
  if (people.frames === 1 && !hasMotion) return { decision: 'Maybe', indicator: 'person_single_frame' };
  return { decision: 'Yes', indicator: 'person_after_hours' };
}

function vehicleOutcome(vehicles: Sighting, afterHours: boolean | null, moving: boolean): RuleOutcome | null {
  if (vehicles.frames === 0) return null;
  if (afterHours === false) return { decision: 'No', indicator: 'vehicle_business_hours' };
  if (!moving) return { decision: 'No', indicator: 'vehicle_parked' };
  return afterHours
    ? { decision: 'Maybe', indicator: 'vehicle_after_hours' }
    : { decision: 'Maybe', indicator: 'vehicle_present' };
}

/** Whether a vision model is asked about an alarm: never at sensitivity 0, nor when the filters kept nothing. */
export const reachesModel = (sensitivity: Sensitivity, kept: readonly FrameDetections[]): boolean =>
  sensitivity !== 0 && kept.some((frame) => frame.detections.length > 0);

/** No, Maybe or Yes from the detections that survived the filters, the motion and the site's local time. */
export function decideLocally(
  input: DecisionInput,
  businessHours: Record<SiteCategory, BusinessHours | null> = defaultBusinessHours,
): LocalDecision {
  const sightings: Record<DetectionCategory, Sighting> = {
    person: sightingsOf(input.frames, 'person'),
    vehicle: sightingsOf(input.frames, 'vehicle'),
    weapon: sightingsOf(input.frames, 'weapon'),
  };
  const time = businessHoursAt(input.vendorTime, businessHours[input.siteCategory]);
  const { afterHours } = time;
  const placement = personPlacement(input.frames);
  const vehiclesMove = vehiclesMoving(input.frames, input.hasMotion);
  const anyTarget = sightings.person.frames + sightings.vehicle.frames + sightings.weapon.frames > 0;

  let outcomes: RuleOutcome[];
  if (input.sensitivity === 0) {
    // No rules at sensitivity 0: any presence goes to the operator.
    outcomes = anyTarget ? [{ decision: 'Maybe', indicator: 'high_sensitivity_presence' }] : [];
  } else {
    outcomes = [
      sightings.weapon.frames > 0 ? { decision: 'Yes', indicator: 'weapon_detected' } as const : null,
      personOutcome(sightings.person, afterHours, input.hasMotion),
      vehicleOutcome(sightings.vehicle, afterHours, vehiclesMove),
    ].filter((outcome) => outcome !== null);
  }
  if (outcomes.length === 0) outcomes = [{ decision: 'No', indicator: 'no_target' }];

  const decision = outcomes.reduce<Decision>(
    (worst, { decision }) => (crimeRateOf[decision] > crimeRateOf[worst] ? decision : worst),
    'No',
  );
  const rulesRan = input.sensitivity !== 0;
  const timeMattered = rulesRan && (sightings.person.frames > 0 || sightings.vehicle.frames > 0);
  const distance = rulesRan ? distanceIndicator(placement) : null;
  const indicators: DecisionIndicator[] = [
    ...outcomes.map(({ indicator }) => indicator),
    ...(distance ? [distance] : []),
    ...(afterHours === null && timeMattered ? (['time_unknown'] as const) : []),
    input.hasMotion ? 'motion' : 'no_motion',
  ];
  return {
    decision,
    crimeRate: crimeRateOf[decision],
    indicators,
    description: describeEvent(input, sightings, placement, vehiclesMove, time),
  };
}
