/** The queue, the result player, the workflow gallery and the toasts. */
import { useEffect, useState } from 'react';
import type { JobSummary } from '../../nodes/core/protocol';
import { api, errorText, type WorkflowEntry } from './api';
import { useInterval } from './Inspector';
import { FilePicker } from './ParamField';
import { formatMs } from './StudioNodeView';

function elapsed(job: JobSummary): number | undefined {
  if (job.ms !== undefined) return job.ms;
  if (!job.startedAt) return undefined;
  const end = job.finishedAt ? Date.parse(job.finishedAt) : Date.now();
  return end - Date.parse(job.startedAt);
}

const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function QueuePanel({
  jobs,
  activeId,
  onView,
  onCancel,
  onRemove,
}: {
  jobs: JobSummary[];
  activeId: string | null;
  onView(id: string): void;
  onCancel(id: string): void;
  onRemove(id: string): void;
}) {
  const [, tick] = useState(0);
  const anyRunning = jobs.some((j) => j.status === 'running');
  useInterval(() => tick((t) => t + 1), anyRunning ? 500 : null);
  if (jobs.length === 0) return <div className="empty-panel">No jobs yet. Press Run (Ctrl+Enter).</div>;
  return (
    <div className="queue" data-testid="queue">
      {jobs.map((job) => {
        const states = Object.values(job.nodes);
        const done = states.filter((s) => s.state === 'done' || s.state === 'cached').length;
        const ms = elapsed(job);
        return (
          <div
            key={job.id}
            className={`job ${job.id === activeId ? 'active' : ''}`}
            data-testid={`job-${job.id}`}
            data-status={job.status}
            onClick={() => onView(job.id)}
          >
            <div className="job-line">
              <span className={`chip chip-${job.status}`}>{job.status}</span>
              <span className="job-name">{job.name}</span>
              <span className="muted small">{time(job.createdAt)}</span>
            </div>
            <div className="job-line small">
              <span className="muted">
                {states.length > 0 ? `${done}/${states.length} nodes` : ''}
                {job.status === 'pending' && job.queuePosition !== undefined ? ` · #${job.queuePosition + 1} in queue` : ''}
                {ms !== undefined ? ` · ${formatMs(ms)}` : ''}
                {job.seed !== null && job.seed !== undefined ? ` · seed ${job.seed}` : ''}
              </span>
              <span className="job-actions">
                {job.status === 'pending' || job.status === 'running' ? (
                  <button
                    type="button"
                    onClick={(e) => {
                      e.stopPropagation();
                      onCancel(job.id);
                    }}
                  >
                    Cancel
                  </button>
                ) : (
                  <button
                    type="button"
                    title="Remove from history"
                    onClick={(e) => {
                      e.stopPropagation();
                      onRemove(job.id);
                    }}
                  >
                    ✕
                  </button>
                )}
              </span>
            </div>
            {job.error ? <div className="node-error small">{job.error}</div> : null}
          </div>
        );
      })}
    </div>
  );
}

export function ResultPanel({ job }: { job: JobSummary | undefined }) {
  if (!job) return <div className="empty-panel">Run the workflow; its video appears here.</div>;
  if (job.status !== 'finished') {
    return <div className="empty-panel">{job.status === 'failed' ? `The job failed: ${job.error ?? ''}` : `The job is ${job.status}…`}</div>;
  }
  if (job.files.length === 0) return <div className="empty-panel">This workflow wrote no files (add an Export node).</div>;
  return (
    <div className="result" data-testid="result">
      {job.files.map((f) => (
        <div key={f.url} className="result-file">
          {f.mime.startsWith('video/') ? (
            <video src={f.url} controls loop autoPlay muted playsInline data-testid="result-video" />
          ) : f.mime.startsWith('image/') ? (
            <img src={f.url} alt={f.name} className="result-image" />
          ) : null}
          <div className="job-line">
            <span>
              <b>{f.name}</b> <span className="muted small">from {f.node} · {(f.bytes / 1024).toFixed(1)} KB</span>
            </span>
            <a className="button primary" href={f.url} download={f.name} data-testid="download-result">
              ⤓ Download
            </a>
          </div>
        </div>
      ))}
      <div className="muted small">Finished in {formatMs(job.ms)}. The workflow is embedded in the file: drop it on the canvas to reopen.</div>
    </div>
  );
}

export function Gallery({
  onOpen,
  onClose,
  onOpenFile,
}: {
  onOpen(entry: WorkflowEntry): void;
  onClose(): void;
  onOpenFile(file: File): void;
}) {
  const [entries, setEntries] = useState<WorkflowEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    api.workflows().then(setEntries, (e: unknown) => setError(errorText(e)));
  useEffect(() => {
    void load();
  }, []);
  const section = (source: WorkflowEntry['source'], title: string) => {
    const items = (entries ?? []).filter((e) => e.source === source);
    return (
      <section>
        <h3>{title}</h3>
        {items.length === 0 ? <div className="muted small">{entries ? 'None yet.' : 'Loading…'}</div> : null}
        <div className="gallery-grid">
          {items.map((e) => (
            <div key={`${e.source}/${e.id}`} className="gallery-card" data-testid={`open-${e.source}-${e.id}`} onClick={() => onOpen(e)}>
              <div className="gallery-name">{e.name}</div>
              <div className="muted small">{e.id}</div>
              {source === 'saved' ? (
                <button
                  type="button"
                  className="gallery-delete"
                  title="Delete from the library"
                  onClick={(ev) => {
                    ev.stopPropagation();
                    if (!window.confirm(`Delete "${e.name}" from the library?`)) return;
                    api.deleteWorkflow(e.id).then(load, (err: unknown) => setError(errorText(err)));
                  }}
                >
                  ✕
                </button>
              ) : null}
            </div>
          ))}
        </div>
      </section>
    );
  };
  return (
    <div className="modal-backdrop" onMouseDown={onClose}>
      <div className="modal" onMouseDown={(e) => e.stopPropagation()} data-testid="gallery">
        <div className="modal-head">
          <h2>Open a workflow</h2>
          <FilePicker className="button" accept=".json,application/json,video/*,image/png,image/gif" onFile={onOpenFile}>
            Open file…
          </FilePicker>
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
        {error ? <div className="node-error">{error}</div> : null}
        {section('example', 'Examples')}
        {section('saved', 'Your library')}
        <div className="muted small">Tip: drop a workflow .json, or a video or PNG this studio exported, onto the canvas.</div>
      </div>
    </div>
  );
}

export interface Toast {
  id: number;
  kind: 'info' | 'error' | 'refusal';
  text: string;
}

export function Toasts({ toasts, onDismiss }: { toasts: Toast[]; onDismiss(id: number): void }) {
  return (
    <div className="toasts">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.kind}`} data-testid={`toast-${t.kind}`} onClick={() => onDismiss(t.id)}>
          {t.text}
        </div>
      ))}
    </div>
  );
}
