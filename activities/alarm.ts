import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../db/database.js';
import type { AlarmServerResult } from '../db/schema.js';
import { JobRepository, type StoredDetection } from '../db/repositories/jobs.js';
import { TenancyRepository, type SiteContext } from '../db/repositories/tenancy.js';
import { LOCAL_RULES_VERSION, decideLocally, defaultBusinessHours, reachesModel, type BusinessHours } from '../domain/decision.js';
import {
  applyFilters,
  filterSettingsFor,
  isSetAside,
  relevanceFilters,
  seenDetections,
  type FilterIndicator,
  type FilterOutcome,
  type FilterOverrides,
} from '../domain/filters.js';
import { activityDiffsOf, carriedMeasures, type MeasuredFrameDetections } from '../domain/frame-measures.js';
import {
  defaultFrameQualitySettings,
  judgeFrameQuality,
  measuringOf,
  type FrameQuality,
  type QualityIndicator,
} from '../domain/frame-quality.js';
import { hasMotion } from '../domain/motion.js';
import { parseVendorTimestamp } from '../domain/local-time.js';
import { formatLocalTime, resolveTimezone } from '../domain/site-time.js';
import { FailureType } from '../domain/failure-types.js';
import { filtersRunAt, type Decision, type DecisionMethod, type FrameDetections, type Sensitivity, type SiteCategory } from '../domain/types.js';
import { measureFrames } from '../media/frame-measures.js';
import { jobMediaPrefix, type MediaStore } from '../media/store.js';
import type { Logger } from '../logging/logger.js';
import type { AlarmWorkflowInput, FrameRef } from '../workflows/contracts/alarm-verification.js';
import { jobLogger } from './job-logger.js';

export interface AlarmActivityDeps {
  db: Db;
  media: MediaStore;
  logger: Logger;
  /** Per site category, for the local rules; the built-in table when not given. */
  businessHours?: Record<SiteCategory, BusinessHours | null>;
  /** Over the per-site-category filter defaults; none when not given. */
  filterOverrides?: FilterOverrides;
}

interface JobScope {
  accountId: string;
  jobId: string;
}

export interface SiteTime {
  vendorTime: string;
  timezone: string | null;
  indicators: string[];
}

export interface FrameAnalysis extends Omit<FilterOutcome, 'indicators'> {
  /** The filters that removed something, then the frame-quality flags raised (sensitivity 2 only). */
  indicators: (FilterIndicator | QualityIndicator)[];
  /** Per frame in upload order, at sensitivity 2: quality measures and flags (they inform, never remove). */
  quality: FrameQuality[];
  activityDiffs: number[];
  hasMotion: boolean;
}

export interface DecisionResult {
  decision: Decision;
  crimeRate: 0 | 1 | 2;
  method: DecisionMethod;
  engine: string;
  analysisCalled: boolean;
  analysisSeconds: number;
  decidedAt: string;
  description: string;
  indicators: string[];
}

type TenancyInput = JobScope & Pick<AlarmWorkflowInput, 'cameraId' | 'siteCategory' | 'siteAddress' | 'names'>;

interface AnalyseInput extends JobScope {
  cameraId?: string;
  siteCategory: string;
  frames: FrameRef[];
  detections: MeasuredFrameDetections[];
  sensitivity: Sensitivity;
}

interface DecideInput extends JobScope {
  sensitivity: Sensitivity;
  siteCategory: string;
  vendorTime: string | null;
  analysis: FrameAnalysis;
  frameCount: number;
  extraIndicators: string[];
}

/** An alarm settled by the local rules and stored (`decision`), or its analysis, for a vision model to decide. */
export type SettledAlarm = { decision: DecisionResult } | { analysis: FrameAnalysis };

export function createAlarmActivities({ db, media, logger, businessHours = defaultBusinessHours, filterOverrides = {} }: AlarmActivityDeps) {
  const jobs = new JobRepository(db);
  const tenancy = new TenancyRepository(db);

  const steps = {
    /**
     * Marks the job running and applies the submission's names, category and address to its group, site and camera.
     * The row's stage follows the workflow's from here (`tenancy`, `detect` once the site time is set, `decide` on a
     * model's route, then the end): a status request reads it there, without a word from Temporal.
     */
    async upsertTenancy(input: TenancyInput): Promise<SiteContext> {
      const job = await jobs.markRunning(input.accountId, input.jobId, 'tenancy');
      if (!job) {
        // markRunning waited for the submitting transaction to end: no row now means it never committed
        // (the API died after starting this workflow), so the frames it stored belong to nothing.
        if (!(await jobs.get(input.accountId, input.jobId))) await media.remove(jobMediaPrefix('alarm', input.jobId));
        throw ApplicationFailure.nonRetryable(`Job ${input.jobId} is not queued or running.`, FailureType.UnknownJob);
      }
      return tenancy.applySubmission(input.accountId, input.cameraId, {
        ...input.names,
        siteCategory: input.siteCategory,
        siteAddress: input.siteAddress,
      });
    },

    /** The vendor's timestamp wins; otherwise the current time in the zone of the site's address (cached on the site). */
    async resolveSiteTime({ accountId, jobId, site, timestamp }: JobScope & { site: SiteContext; timestamp: string | null }): Promise<SiteTime> {
      // An address that resolves to no zone is cached as such too: it is not looked up again for every job.
      let timezone = site.cachedTimezone?.timezone ?? null;
      if (!site.cachedTimezone && site.address) {
        timezone = resolveTimezone(site.address);
        await tenancy.cacheTimezone(accountId, site.siteDbId, site.address, timezone);
      }
      const indicators: string[] = [];
      let vendorTime: string;
      const given = timestamp ? parseVendorTimestamp(timestamp) : null;
      if (timestamp && given) {
        vendorTime = timestamp.length === 16 ? `${timestamp}:00` : timestamp;
      } else {
        const job = await jobs.get(accountId, jobId);
        if (!job) throw ApplicationFailure.nonRetryable(`Job ${jobId} not found.`, FailureType.UnknownJob);
        if (!timezone) indicators.push('timezone_unresolved');
        vendorTime = formatLocalTime(timezone ?? 'UTC', job.created_at);
      }
      await jobs.setSiteTime(accountId, jobId, { vendorTime, siteTimezone: timezone, stage: 'detect' });
      return { vendorTime, timezone, indicators };
    },

    /**
     * Motion from consecutive frame differences. At sensitivity 2 also the frame-quality flags and the
     * nuisance filters, with the site category's settings and the camera's previous event's vehicles.
     * Quality and motion come from the measures the detection worker took on the frames it decoded; only
     * detections without them (an older detection worker, a recorded history) have the frames fetched and
     * decoded here. `cameraId` is optional for callers without a database (the eval script): without it, no previous event.
     */
    async analyseFrames({
      accountId,
      jobId,
      cameraId,
      siteCategory,
      frames,
      detections,
      sensitivity,
    }: AnalyseInput): Promise<FrameAnalysis> {
      const settings = filtersRunAt(sensitivity) ? filterSettingsFor(siteCategory, filterOverrides) : null;
      const measuring = measuringOf(settings?.quality ?? defaultFrameQualitySettings);
      const stored = frames.map((frame) => ({ index: frame.index, load: () => media.get(frame.key) }));
      const measures =
        carriedMeasures(frames, detections, settings && measuring) ??
        (await measureFrames(stored, measuring, (_frameIndex, error) => ApplicationFailure.nonRetryable(error.message, FailureType.InvalidImage)));
      // The measures stop here: the filters' frames go on to the decision, the history and the database.
      const detected: FrameDetections[] = detections.map(({ measures: _measures, ...frame }) => frame);
      const activityDiffs = activityDiffsOf(measures);
      const motion = { activityDiffs, hasMotion: hasMotion(activityDiffs) };
      if (!settings) return { ...applyFilters(detected, sensitivity), quality: [], ...motion };

      const previousEvent = cameraId ? await jobs.previousEventVehicles(accountId, cameraId, jobId, relevanceFilters) : [];
      const filtered = applyFilters(detected, sensitivity, { settings, previousEvent });
      const quality = judgeFrameQuality(measures.map((frame) => frame.quality), settings.quality, settings.disabled);
      return { ...filtered, indicators: [...filtered.indicators, ...quality.indicators], quality: quality.frames, ...motion };
    },

    async decide(input: DecideInput): Promise<DecisionResult> {
      const started = performance.now();
      const local = decideLocally({
        sensitivity: input.sensitivity,
        siteCategory: input.siteCategory as SiteCategory,
        vendorTime: input.vendorTime,
        frames: input.analysis.kept,
        hasMotion: input.analysis.hasMotion,
        frameCount: input.frameCount,
      }, businessHours);
      return {
        decision: local.decision,
        crimeRate: local.crimeRate,
        method: 'Local',
        engine: LOCAL_RULES_VERSION,
        // Sensitivity 0 and empty events are settled without the decision engine.
        analysisCalled: reachesModel(input.sensitivity, input.analysis.kept),
        analysisSeconds: Number(((performance.now() - started) / 1000).toFixed(4)),
        decidedAt: new Date().toISOString(),
        description: local.description,
        indicators: [...new Set([...input.analysis.indicators, ...input.extraIndicators, ...local.indicators])],
      };
    },

    async persistResult({
      accountId,
      jobId,
      analysis,
      decision,
    }: JobScope & { analysis: FrameAnalysis; decision: DecisionResult }): Promise<void> {
      const detections = storedDetectionsOf(analysis);
      const kept = detections.filter((d) => d.kept);
      const removed = detections.filter((d) => !d.kept);
      // What was seen, a parked vehicle included; the decision counted only what was kept.
      const seenCategories = new Set(seenDetections(analysis).flatMap((frame) => frame.detections.map((d) => d.category)));
      const result: AlarmServerResult = {
        crime_rate: decision.crimeRate,
        has_motion: analysis.hasMotion,
        has_person: seenCategories.has('person'),
        has_vehicle: seenCategories.has('vehicle'),
        ai_analysis_called: decision.analysisCalled,
        ai_analysis_time: decision.analysisSeconds,
        ai_engine: decision.engine,
        ai_decision_method: decision.method,
        ai_decision_time: decision.decidedAt,
        ai_description: decision.description,
        ai_decision: decision.decision,
        ai_decision_indicators: decision.indicators,
      };
      await jobs.finish(accountId, jobId, { result, activityDiffs: analysis.activityDiffs, detections: [...kept, ...removed] });
      jobLogger(logger, { jobId, accountId }).info({ crimeRate: result.crime_rate, kept: kept.length, removed: removed.length }, 'alarm job finished');
    },
  };

  return {
    ...steps,

    /**
     * The tenancy, then the site's time, in one local activity: one round trip through the workflow task instead
     * of two (4–19 ms each: BENCHMARKS.md, "Two local activities per alarm"). Retried whole: both steps are idempotent.
     */
    async beginAlarm(input: TenancyInput & { timestamp: string | null }): Promise<{ site: SiteContext; siteTime: SiteTime }> {
      const site = await steps.upsertTenancy(input);
      return { site, siteTime: await steps.resolveSiteTime({ accountId: input.accountId, jobId: input.jobId, site, timestamp: input.timestamp }) };
    },

    /**
     * The analysis, then, when no vision model is to be asked (none configured, or `reachesModel` says no), the
     * local decision and the result's storage: the usual alarm's whole second workflow task in one local activity.
     * Retried whole: the analysis reads, and storing replaces the job's detections.
     */
    async settleAlarm(input: Omit<AnalyseInput & DecideInput, 'analysis' | 'frameCount'> & { modelConfigured: boolean }): Promise<SettledAlarm> {
      const analysis = await steps.analyseFrames(input);
      if (input.modelConfigured && reachesModel(input.sensitivity, analysis.kept)) {
        await jobs.setStage(input.accountId, input.jobId, 'decide');
        return { analysis };
      }
      const decision = await steps.decide({ ...input, analysis, frameCount: input.frames.length });
      await steps.persistResult({ accountId: input.accountId, jobId: input.jobId, analysis, decision });
      return { decision };
    },
  };
}

/** Every detection of an analysis as stored: those the filters kept, then those they removed with the filter's name (a parked vehicle marked). */
export function storedDetectionsOf(analysis: Pick<FrameAnalysis, 'kept' | 'removed'>): StoredDetection[] {
  const kept = analysis.kept.flatMap((frame) => frame.detections.map((d) => toStored(frame.frameIndex, d, null, false)));
  const removed = analysis.removed.map((r) => toStored(r.frameIndex, r.detection, r.filter, isSetAside(r)));
  return [...kept, ...removed];
}

function toStored(frameIndex: number, d: FrameDetections['detections'][number], filteredBy: string | null, parked: boolean): StoredDetection {
  return { frameIndex, category: d.category, label: d.label, score: d.score, box: d.box, kept: filteredBy === null, filteredBy, parked };
}

export type AlarmActivities = ReturnType<typeof createAlarmActivities>;
