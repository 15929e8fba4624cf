/**
 * What Vigil asks a vision LLM and what it accepts back (methods C1, C2, C21 in workflows/decision-routing.ts): the
 * indicator vocabulary, the answer's schema (zod; llm/vision-client.ts sends it as `response_format`),
 * and the prompt text. Pure: no I/O.
 */
import { z } from 'zod';
import { businessHoursAt, type BusinessHours } from './decision.js';
import type { Detection, DetectionCategory, FrameDetections, Sensitivity, SiteCategory } from './types.js';

/** Every indicator a model may give, with what it means; the JSON schema allows these and no others. */
export const llmIndicators = [
  { indicator: 'person_present', meaning: 'a real person is visible' },
  { indicator: 'person_after_hours', meaning: 'a person is on site when the site should be empty' },
  { indicator: 'vehicle_present', meaning: 'a real vehicle is visible' },
  { indicator: 'vehicle_moving', meaning: 'a vehicle moves between frames' },
  { indicator: 'weapon_visible', meaning: 'a weapon or a tool held as one is visible' },
  { indicator: 'forced_entry', meaning: 'breaking, prying or forcing a door, window, gate or fence' },
  { indicator: 'climbing', meaning: 'climbing a fence, wall, gate or building' },
  { indicator: 'loitering', meaning: 'lingering or pacing without an evident purpose' },
  { indicator: 'concealed_face', meaning: 'a mask, hood or covering hides the face' },
  { indicator: 'carrying_items', meaning: 'carrying goods, tools or bags, especially away from the site' },
  { indicator: 'authorised_activity', meaning: 'staff, workers in uniform or customers going about ordinary business' },
  { indicator: 'animal', meaning: 'an animal caused the event' },
  { indicator: 'weather_or_lighting', meaning: 'rain, snow, headlights, shadows or a change of light caused the event' },
  { indicator: 'vegetation', meaning: 'moving plants or trees caused the event' },
  { indicator: 'false_detection', meaning: 'a drawn box is not on what its label says' },
  { indicator: 'poor_image', meaning: 'the frames are too dark, blurred or obstructed to judge' },
  { indicator: 'no_threat', meaning: 'nothing suspicious is happening' },
] as const;
export type LlmIndicator = (typeof llmIndicators)[number]['indicator'];

const indicatorNames = llmIndicators.map(({ indicator }) => indicator) as [LlmIndicator, ...LlmIndicator[]];

export const llmVerdictSchema = z.object({
  decision: z.enum(['No', 'Maybe', 'Yes']),
  confidence: z.number().min(0).max(1),
  description: z.string().min(1).max(600),
  indicators: z.array(z.enum(indicatorNames)).max(8),
});
export type LlmVerdict = z.infer<typeof llmVerdictSchema>;

/**
 * The answer a model must give (llm/vision-client.ts sends the schema as the JSON-schema
 * `response_format`), and room for it in tokens: a model that runs past it is cut off and gets its repair turn.
 */
export const llmVerdictAnswer = { name: 'alarm_verdict', schema: llmVerdictSchema, maxTokens: 600 };

export const llmSystemPrompt = [
  'You verify security alarms for a remote monitoring centre.',
  'You get one contact sheet of the frames of one alarm event, numbered in time order, with the boxes an object detector drew',
  '(red: person, blue: vehicle, yellow: weapon), and a summary of the site and the detections.',
  'Decide whether a human operator must look at the event:',
  '"Yes" for a likely intrusion, break-in, theft, vandalism or threat;',
  '"Maybe" for people or vehicles whose purpose is unclear;',
  '"No" for a false alarm or ordinary, authorised activity.',
  'Judge from the pixels: the detector can be wrong, and an empty detection summary does not prove an empty scene.',
  'Give your confidence from 0 to 1, a description of at most two plain sentences saying who or what is where and doing what,',
  `and the indicators that apply, only from this list: ${indicatorNames.join(', ')}.`,
  'Answer with the JSON object only.',
].join(' ');

/** The asking model's failed answer, told back once so it can correct itself. */
export function repairPrompt(problem: string): string {
  return `That answer was not usable: ${problem}. Answer again with only the JSON object: decision ("No", "Maybe" or "Yes"), confidence (0 to 1), description, indicators (from the list).`;
}

export interface ModelContext {
  siteCategory: SiteCategory;
  /** Site local time, 'YYYY-MM-DD HH:MM[:SS]'; null when unknown. */
  vendorTime: string | null;
  businessHours: Record<SiteCategory, BusinessHours | null>;
  sensitivity: Sensitivity;
  frameCount: number;
  /** Detections after the nuisance filters, as drawn on the contact sheet. */
  frames: FrameDetections[];
  hasMotion: boolean;
  /** What the filters removed and what is known about the site time, e.g. `filtered_low_score`, `timezone_unresolved`. */
  notes: string[];
}

const sensitivityMeaning: Record<Sensitivity, string> = {
  0: 'report anything',
  1: 'unfiltered detections',
  2: 'nuisance detections filtered out (default)',
};

function framesWith(frames: readonly FrameDetections[], category: DetectionCategory): string {
  const seen = frames
    .map((frame) => ({ number: frame.frameIndex + 1, found: frame.detections.filter((d: Detection) => d.category === category) }))
    .filter(({ found }) => found.length > 0);
  if (seen.length === 0) return 'none';
  const best = Math.max(...seen.flatMap(({ found }) => found.map((d) => d.score)));
  return `${seen.map(({ number, found }) => `frame ${number}: ${found.length}`).join(', ')} (best score ${best.toFixed(2)})`;
}

/** The text that goes with the contact sheet: site, local time, detector summary. */
export function describeForModel(context: ModelContext): string {
  const category = context.siteCategory.replace(/_/g, ' ');
  const hours = context.businessHours[context.siteCategory];
  const time = businessHoursAt(context.vendorTime, hours);
  const openingHours = hours ? `${hh(hours.open)}–${hh(hours.close)}` : 'none (night is 22:00–06:00)';
  const lines = [
    `Site category: ${category}. Business hours: ${openingHours}.`,
    time.clock === null ? 'Local time: unknown.' : `Local time: ${context.vendorTime} (${time.period}).`,
    `Sensitivity: ${context.sensitivity} (${sensitivityMeaning[context.sensitivity]}).`,
    `Frames: ${context.frameCount}, numbered 1 to ${context.frameCount} in time order, left to right and top to bottom.`,
    `Persons detected: ${framesWith(context.frames, 'person')}.`,
    `Vehicles detected: ${framesWith(context.frames, 'vehicle')}.`,
    `Weapons detected: ${framesWith(context.frames, 'weapon')}.`,
    `Motion between consecutive frames: ${context.hasMotion ? 'yes' : 'no'}.`,
  ];
  if (context.notes.length > 0) lines.push(`Notes: ${context.notes.join(', ')}.`);
  return lines.join('\n');
}

function hh(hour: number): string {
  return `${String(hour).padStart(2, '0')}:00`;
}
