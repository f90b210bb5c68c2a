import type { Progress, RunRecord, RunState, TaskStatus } from './local.ts';

/**
 * Shows a local run's progress on a stream: on a terminal, one status line redrawn in place (tasks done,
 * running and waiting, elapsed time); elsewhere, one line per task start and end, for logs.
 */
export function streamProgress(stream: NodeJS.WritableStream & { isTTY?: boolean }): Progress {
  const interactive = Boolean(stream.isTTY);
  const seen = new Map<string, TaskStatus>();
  let lastLine = '';

  return {
    started(runId, runFolder, tasks) {
      stream.write(`run ${runId}: ${tasks.length} tasks; logs in ${runFolder}/logs\n`);
    },
    update(state) {
      if (interactive) {
        const line = statusLine(state);
        if (line !== lastLine) stream.write(`\r\x1b[K${line}`);
        lastLine = line;
        return;
      }
      for (const [task, status] of state.tasks) {
        if (seen.get(task) === status || status === 'waiting') continue;
        seen.set(task, status);
        const verbs: Record<TaskStatus, string> = { waiting: 'waiting', running: 'started', done: 'finished', failed: 'failed' };
        const verb = verbs[status];
        stream.write(`${state.elapsedSeconds.toFixed(1).padStart(8)} s  ${task} ${verb}\n`);
      }
    },
    finished(record: RunRecord) {
      if (interactive && lastLine !== '') stream.write('\n');
      void record;
    },
  };
}

/** Formats the one-line status: `3/5 done, 1 running (train), 1 waiting, 12.3 s`. */
export function statusLine(state: RunState): string {
  const byStatus = (wanted: TaskStatus) => [...state.tasks].filter(([, status]) => status === wanted).map(([task]) => task);
  const done = byStatus('done');
  const running = byStatus('running');
  const waiting = byStatus('waiting');
  const failed = byStatus('failed');
  const parts = [`${done.length}/${state.tasks.size} done`];
  if (running.length > 0) parts.push(`${running.length} running (${running.join(', ')})`);
  if (waiting.length > 0) parts.push(`${waiting.length} waiting`);
  if (failed.length > 0) parts.push(`${failed.length} failed (${failed.join(', ')})`);
  parts.push(`${state.elapsedSeconds.toFixed(1)} s`);
  return parts.join(', ');
}
