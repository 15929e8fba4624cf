import type { DetectionEvent, DetectionRecord } from '../../db/repositories/detections.js';
import { qualityIndicators } from '../../domain/frame-quality.js';
import { roundScore } from './fields.js';
import type { VisualEnrichment } from './visual-enrichment.js';

/**
 * What Vigil knows about a detection beyond its box: the vehicle class the detector gave, in how
 * many frames of its alarm a person was seen, the frame and its quality flags, and the decision
 * context; faces in a person and a vehicle's plate come from visual-enrichment.ts. Everything Vigil has
 * no model for (clothing, pose, weather, colour…) is null: never guessed.
 */

const frameQualityFlags: ReadonlySet<string> = new Set(qualityIndicators.map(({ indicator }) => indicator));
/** Frame quality is only assessed at this sensitivity; below it, the flags are unknown rather than absent. */
const qualityAssessedAt = 2;

function personSightings(detection: DetectionRecord, event: DetectionEvent | undefined) {
  if (detection.category !== 'person') return null;
  return { frames_with_person: event?.framesWithPerson ?? null, event_frames: event?.frameCount ?? null };
}

/** The `enrichment_data` of a detection in lists and search results. */
export function enrichmentSummary(detection: DetectionRecord, event: DetectionEvent | undefined) {
  const person = personSightings(detection, event);
  return {
    vehicle:
      detection.category === 'vehicle'
        ? { vehicle_type: detection.objectType, vehicle_color: null, has_damage: null, is_commercial: null, parked: detection.parked }
        : null,
    person: person && { clothing_description: null, action: null, carrying: null, is_suspicious: null, ...person },
    pet: null,
    weather: null,
    errors: [] as string[],
  };
}

function imageQuality(detection: DetectionRecord, event: DetectionEvent | undefined) {
  if (!detection.frame) return null;
  const assessed = event?.result != null && event.request.detection_sensitive_level >= qualityAssessedAt;
  const issues = assessed
    ? (event.result?.ai_decision_indicators ?? []).filter((indicator) => frameQualityFlags.has(indicator))
    : null;
  return {
    score: null,
    width: detection.frame.width,
    height: detection.frame.height,
    is_blurry: issues && issues.includes('frame_blurred'),
    is_low_quality: issues && issues.length > 0,
    quality_issues: issues,
  };
}

function decisionContext(event: DetectionEvent | undefined) {
  const result = event?.result;
  if (!event || !result) return null;
  return {
    decision: result.ai_decision,
    crime_rate: result.crime_rate,
    method: result.ai_decision_method,
    engine: result.ai_engine,
    description: result.ai_description,
    indicators: result.ai_decision_indicators,
    decided_at: result.ai_decision_time,
    site_category: event.request.site_category,
    site_local_time: event.vendorTime,
    site_timezone: event.siteTimezone,
    sensitivity: event.request.detection_sensitive_level,
  };
}

/** GET /api/detections/{id}/enrichment; `visual` (faces and plate, visual-enrichment.ts) where it was looked at. */
export function enrichmentDocument(detection: DetectionRecord, event: DetectionEvent | undefined, visual?: VisualEnrichment) {
  const finished = event?.finishedAt ?? null;
  const started = event?.startedAt ?? null;
  return {
    detection_id: detection.id,
    enriched_at: finished?.toISOString() ?? null,
    license_plate: visual?.license_plate ?? null,
    face: visual?.face ?? null,
    vehicle:
      detection.category === 'vehicle'
        ? {
            type: detection.objectType,
            color: null,
            confidence: roundScore(detection.score),
            is_commercial: null,
            damage_detected: null,
            damage_types: null,
            parked: detection.parked,
          }
        : null,
    person: personSightings(detection, event),
    clothing: null,
    violence: null,
    weather: null,
    pose: null,
    depth: null,
    image_quality: imageQuality(detection, event),
    pet: null,
    decision: decisionContext(event),
    processing_time_ms: finished && started ? finished.getTime() - started.getTime() : null,
    errors: [] as string[],
  };
}
