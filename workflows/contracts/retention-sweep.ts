/** `retentionSweep(input)`: erases jobs past their retention (see workflows/retention.ts); returns how many it found. */
export interface RetentionSweepInput {
  /** RESULT_RETENTION_DAYS, handed over by the schedule that starts the sweep (temporal/retention-schedule.ts). */
  retentionDays: number;
}
