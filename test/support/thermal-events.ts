/**
 * Thermal events made in memory from the fixture thermal stills: a still as a 4-frame event (small shifts,
 * so persistence across frames applies), and a person far away: the leftmost person of the laboratory
 * still cut out by their warmth, scaled down and walking across the scenes of the other two stills.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Box } from '../../domain/types.js';
import { fixturesDir } from './paths.js';

export const thermalDir = path.join(fixturesDir, 'stills/thermal');
export const thermalStills = {
  people: 'wikimedia_Infrared_image_of_people_in_the_laboratory.jpg',
  car: 'wikimedia_IR_moving_car.jpg',
  ducks: 'wikimedia_Thermal_image_of_four_ducks_swimming.jpg',
} as const;

export const readThermalStill = (name: string) => readFile(path.join(thermalDir, name));

/** Frames in a made event, as an alarm camera sends them. */
export const EVENT_FRAMES = 4;

/** The still cropped a few pixels further right and down in each frame: the scene moves by as much between frames. */
export async function shiftedEvent(still: Uint8Array, frames = EVENT_FRAMES): Promise<Buffer[]> {
  const { width, height } = await sharp(still).metadata();
  const step = 2;
  const margin = step * (frames - 1);
  return Promise.all(
    Array.from({ length: frames }, (_, i) =>
      sharp(still)
        .extract({ left: i * step, top: i * step, width: width - margin, height: height - margin })
        .jpeg({ quality: 92 })
        .toBuffer(),
    ),
  );
}

/** The laboratory still's leftmost person, above the bench that hides their legs and below the camera's readouts. */
const PERSON_REGION = { left: 0, top: 36, width: 84, height: 116 };
/** Luma from which a pixel of the region belongs to a person (the room behind them is darker). */
const WARM_LUMA = 70;
/** The emissivity readout crosses the region: white, where the palette is saturated. */
const READOUT_CHROMA = 40;

/** Where the person walks in each scene (share of the frame): left to right, feet on this line, clear of the readouts. */
const scenes = {
  ducks: { still: thermalStills.ducks, x: 0.12, feet: 0.86 },
  car: { still: thermalStills.car, x: 0.02, feet: 0.78 },
} as const;

export interface SmallPersonEvent {
  name: string;
  /** The person's height as a share of the frame's. */
  personHeight: number;
  frames: Buffer[];
  /** Where the person is in each frame (the pasted cut-out, in frame pixels). */
  boxes: Box[];
}

/** A person at 0.15, 0.12 and 0.1 of the frame's height in both scenes, in the palette and as grey white-hot frames. */
export async function smallPersonEvents(): Promise<SmallPersonEvent[]> {
  const laboratory = await readThermalStill(thermalStills.people);
  const events: SmallPersonEvent[] = [];
  for (const [sceneName, scene] of Object.entries(scenes)) {
    for (const personHeight of [0.15, 0.12, 0.1]) {
      for (const grey of [false, true]) {
        const walk = await walkingPerson(laboratory, await readThermalStill(scene.still), scene, personHeight, grey);
        events.push({ name: `${sceneName} ${personHeight}${grey ? ' grey' : ''}`, personHeight, ...walk });
      }
    }
  }
  return events;
}

async function walkingPerson(
  laboratory: Buffer,
  background: Buffer,
  scene: { x: number; feet: number },
  personHeight: number,
  grey: boolean,
): Promise<{ frames: Buffer[]; boxes: Box[] }> {
  const { width, height } = await sharp(background).metadata();
  const cutHeight = Math.max(8, Math.round(personHeight * height));
  const cutWidth = Math.round((PERSON_REGION.width * cutHeight) / PERSON_REGION.height);
  const { data: rgb } = await sharp(laboratory).extract(PERSON_REGION).resize(cutWidth, cutHeight).raw().toBuffer({ resolveWithObject: true });
  // The person's own pixels opaque, the room behind them transparent.
  const rgba = Buffer.alloc(cutWidth * cutHeight * 4);
  for (let i = 0; i < cutWidth * cutHeight; i++) {
    const [r, g, b] = [rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!];
    const warm = 0.299 * r + 0.587 * g + 0.114 * b >= WARM_LUMA && Math.max(r, g, b) - Math.min(r, g, b) >= READOUT_CHROMA;
    rgba.set([r, g, b, warm ? 255 : 0], i * 4);
  }
  const cutout = await sharp(rgba, { raw: { width: cutWidth, height: cutHeight, channels: 4 } }).png().toBuffer();
  const top = Math.round(scene.feet * height) - cutHeight;
  const lefts = Array.from({ length: EVENT_FRAMES }, (_, i) => Math.round((scene.x + 0.02 * i) * width));
  const frames = await Promise.all(
    lefts.map(async (left) => {
      const frame = sharp(background).composite([{ input: cutout, left, top }]);
      return (grey ? sharp(await frame.toBuffer()).greyscale().toColourspace('srgb') : frame).jpeg({ quality: 92 }).toBuffer();
    }),
  );
  return { frames, boxes: lefts.map((left): Box => [left, top, left + cutWidth, top + cutHeight]) };
}
