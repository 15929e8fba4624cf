import type { temporal } from '@temporalio/proto';

/** Where the core SDK records a local activity's outcome in history. */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

/**
 * The activities a workflow ran, in history order: task-queue activities by their scheduled events, local
 * ones by their markers (one per completed call, its retries included), named with a trailing ` (local)`.
 */
export function activityNames(history: temporal.api.history.v1.IHistory): string[] {
  return (history.events ?? []).flatMap((event) => {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) return [scheduled.activityType?.name ?? ''];
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName !== LOCAL_ACTIVITY_MARKER) return [];
    const data = marker.details?.data?.payloads?.[0]?.data;
    const { activity_type: name } = JSON.parse(Buffer.from(data ?? '{}').toString('utf8')) as { activity_type?: string };
    return [`${name ?? ''} (local)`];
  });
}

/** The event that scheduled the workflow's first task-queue activity of that name, if any. */
export function scheduledActivity(history: temporal.api.history.v1.IHistory, name: string): temporal.api.history.v1.IHistoryEvent | undefined {
  return history.events?.find((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === name);
}
