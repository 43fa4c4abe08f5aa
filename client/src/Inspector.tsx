/**
 * The frame inspector: a node's frames as a filmstrip with a scrubber and playback,
 * the keyframes node's denoising steps, and a comparison of two nodes side by side or
 * with a wipe. Frames come from the finished job over REST; while a node runs, its
 * live preview is shown instead.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { JobSummary } from '../../nodes/core/protocol';
import { api, errorText, frameUrl, stepFrameUrl, type FramesInfo } from './api';
import type { StudioNode } from './graph';
import { framesReady } from './runStore';
import { LivePreview, formatMs } from './StudioNodeView';


/** The server numbers sampling steps from 1 and reports the last one. */
function stepList(info: FramesInfo | null): number[] {
  if (!info?.steps) return [];
  if (Array.isArray(info.steps)) return info.steps;
  return Array.from({ length: info.steps }, (_, i) => i + 1);
}


function useFramesInfo(job: JobSummary | undefined, nodeId: string | null) {
  const [info, setInfo] = useState<FramesInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ready = nodeId ? framesReady(job, nodeId) : false;
  useEffect(() => {
    setInfo(null);
    setError(null);
    if (!job || !nodeId || !ready) return;
    let live = true;
    api.frames(job.id, nodeId).then(
      (i) => live && setInfo(i),
      (e: unknown) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [job?.id, nodeId, ready]);
  return { info, error };
}

/** Same moment in another node's frames: keyframes and interpolated frames differ in count. */
const mapIndex = (i: number, from: number, to: number) => (from <= 1 || to <= 1 ? 0 : Math.round((i * (to - 1)) / (from - 1)));

export function Inspector({ job, node, nodes, fallbackFps }: { job: JobSummary | undefined; node: StudioNode | null; nodes: StudioNode[]; fallbackFps: number }) {
  if (!node) return <div className="empty-panel">Select a node to inspect its frames.</div>;
  const run = job?.nodes[node.id];
  return (
    <div className="inspector" data-testid="inspector">
      <div className="inspector-head">
        <b>{node.data.title ?? node.id}</b> <span className="muted">{node.data.nodeType}</span>
        {run ? <span className={`badge badge-${run.state}`}>{run.state === 'done' ? `done ${formatMs(run.ms)}` : run.state}</span> : null}
      </div>
      {!job ? <div className="empty-panel">Run the workflow to see this node’s frames.</div> : null}
      {job && (run?.state === 'running' || ((run?.state === 'done' || run?.state === 'cached') && job.status !== 'finished')) ? (
        <div>
          <LivePreview nodeId={node.id} large />
          <div className="muted small">
            {run.state === 'running' ? 'Live preview while the node runs.' : 'Latest preview; every frame can be inspected when the job finishes.'}
          </div>
        </div>
      ) : null}
      {job && run?.state === 'failed' ? <div className="node-error">{run.error}</div> : null}
      {job && run && framesReady(job, node.id) ? (
        <FrameViewer key={`${job.id}/${node.id}`} job={job} node={node} nodes={nodes} fallbackFps={fallbackFps} />
      ) : null}
      {job && run && (run.state === 'waiting' || run.state === 'skipped' || run.state === 'cancelled') ? <div className="empty-panel">{run.state}</div> : null}
    </div>
  );
}

function FrameViewer({ job, node, nodes, fallbackFps }: { job: JobSummary; node: StudioNode; nodes: StudioNode[]; fallbackFps: number }) {
  const { info, error } = useFramesInfo(job, node.id);
  const [index, setIndex] = useState(0);
  const [playing, setPlaying] = useState(false);
  const steps = stepList(info);
  const [stepPos, setStepPos] = useState<number | null>(null); // null: the final frames
  const [compareId, setCompareId] = useState<string>('');
  const [mode, setMode] = useState<'side' | 'wipe'>('side');
  const [wipe, setWipe] = useState(50);
  const compare = useFramesInfo(job, compareId || null);
  const count = info?.count ?? 0;
  const fps = info?.fps && info.fps > 0 ? info.fps : fallbackFps;

  // Warm the browser cache so scrubbing and playback do not flicker.
  useEffect(() => {
    if (!info) return;
    const imgs = Array.from({ length: Math.min(info.count, 256) }, (_, i) => {
      const img = new Image();
      img.src = frameUrl(job.id, node.id, i);
      return img;
    });
    return () => imgs.forEach((img) => (img.src = ''));
  }, [info, job.id, node.id]);

  useEffect(() => {
    if (!playing || count < 2) return;
    const t = setInterval(() => setIndex((i) => (i + 1) % count), 1000 / fps);
    return () => clearInterval(t);
  }, [playing, count, fps]);

  const candidates = useMemo(() => nodes.filter((n) => n.id !== node.id && framesReady(job, n.id)), [nodes, node.id, job]);

  if (error) return <div className="node-error">{error}</div>;
  if (!info) return <div className="muted small">Loading frames…</div>;
  if (count === 0) return <div className="empty-panel">This node produced no frames.</div>;

  const i = Math.min(index, count - 1);
  const src = stepPos === null ? frameUrl(job.id, node.id, i) : stepFrameUrl(job.id, node.id, steps[stepPos]!, i);
  const other = compare.info && compareId ? frameUrl(job.id, compareId, mapIndex(i, count, compare.info.count)) : null;
  const aspect = `${info.width} / ${info.height}`;

  return (
    <div className="frame-viewer">
      {other && mode === 'wipe' ? (
        <div className="stage wipe" style={{ aspectRatio: aspect }} data-testid="wipe">
          <img src={src} alt="" />
          <img src={other} alt="" style={{ clipPath: `inset(0 0 0 ${wipe}%)` }} />
          <div className="wipe-line" style={{ left: `${wipe}%` }} />
          <span className="stage-tag left">{node.id}</span>
          <span className="stage-tag right">{compareId}</span>
        </div>
      ) : other ? (
        <div className="stage-pair" data-testid="side-by-side">
          <figure>
            <img className="stage-img" src={src} alt="" style={{ aspectRatio: aspect }} />
            <figcaption>{node.id}</figcaption>
          </figure>
          <figure>
            <img className="stage-img" src={other} alt="" style={{ aspectRatio: aspect }} />
            <figcaption>
              {compareId} · frame {mapIndex(i, count, compare.info!.count) + 1}/{compare.info!.count}
            </figcaption>
          </figure>
        </div>
      ) : (
        <div className="stage" style={{ aspectRatio: aspect }}>
          <img src={src} alt={`frame ${i + 1}`} data-testid="inspector-frame" />
        </div>
      )}
      {other && mode === 'wipe' ? (
        <input type="range" min={0} max={100} value={wipe} onChange={(e) => setWipe(Number(e.target.value))} aria-label="Wipe position" />
      ) : null}

      <div className="transport">
        <button type="button" onClick={() => setPlaying((p) => !p)} data-testid="play" disabled={count < 2}>
          {playing ? '❚❚ Pause' : '▶ Play'}
        </button>
        <input
          type="range"
          className="scrubber"
          min={0}
          max={count - 1}
          value={i}
          onChange={(e) => {
            setPlaying(false);
            setIndex(Number(e.target.value));
          }}
          data-testid="scrubber"
          aria-label="Frame"
        />
        <span className="frame-info" data-testid="frame-info">
          frame {i + 1}/{count} · {info.width}×{info.height} · {fps} fps
        </span>
      </div>

      {steps.length > 0 ? (
        <div className="steps-row">
          <label>Denoising</label>
          <input
            type="range"
            min={0}
            max={steps.length}
            value={stepPos ?? steps.length}
            onChange={(e) => {
              const v = Number(e.target.value);
              setStepPos(v >= steps.length ? null : v);
            }}
            data-testid="step-slider"
            aria-label="Sampling step"
          />
          <span className="frame-info">{stepPos === null ? 'final' : `step ${steps[stepPos]!}/${steps[steps.length - 1]!}`}</span>
        </div>
      ) : null}

      <div className="filmstrip" data-testid="filmstrip">
        {Array.from({ length: Math.min(count, 256) }, (_, k) => (
          <img
            key={k}
            src={frameUrl(job.id, node.id, k)}
            alt=""
            loading="lazy"
            className={k === i ? 'current' : ''}
            onClick={() => {
              setPlaying(false);
              setIndex(k);
            }}
            title={`frame ${k + 1}`}
          />
        ))}
      </div>

      <div className="compare-row">
        <label>Compare with</label>
        <select value={compareId} onChange={(e) => setCompareId(e.target.value)} data-testid="compare-select">
          <option value="">(none)</option>
          {candidates.map((n) => (
            <option key={n.id} value={n.id}>
              {n.id}
            </option>
          ))}
        </select>
        <div className="seg">
          <button type="button" className={mode === 'side' ? 'on' : ''} onClick={() => setMode('side')} disabled={!compareId}>
            Side by side
          </button>
          <button type="button" className={mode === 'wipe' ? 'on' : ''} onClick={() => setMode('wipe')} disabled={!compareId} data-testid="wipe-mode">
            Wipe
          </button>
        </div>
      </div>
      {compare.error ? <div className="node-error">{compare.error}</div> : null}
    </div>
  );
}

export function useInterval(fn: () => void, ms: number | null) {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (ms === null) return;
    const t = setInterval(() => ref.current(), ms);
    return () => clearInterval(t);
  }, [ms]);
}
