/**
 * A node drawn from its description: typed handles, param widgets, run state and the
 * latest live preview. A node whose type the server does not know is drawn red with
 * the ports its edges use, so a shared workflow still opens and shows what is missing.
 */
import { Handle, Position, type NodeProps } from '@xyflow/react';
import { memo, useEffect, useMemo, useRef } from 'react';
import type { NodeDescription } from '../../nodes/core/definition';
import type { NodeRunState } from '../../nodes/core/protocol';
import type { WorkflowProblem } from '../../nodes/core/workflow';
import { useStudio } from './context';
import { kindColour, type StudioNode } from './graph';
import { ParamField } from './ParamField';
import { usePreviewHeader, previews } from './previews';
import { frameUrl } from './api';
import { framesReady, runStore, useActiveJobStatus, useNodeRunState } from './runStore';
import { fieldsOf } from './schema';

const CATEGORY_COLOURS: Record<string, string> = {
  text: '#8a6d1f',
  generate: '#5b3b8c',
  image: '#2f6b4a',
  video: '#1f5f7a',
  output: '#6b4a2f',
};

export const categoryColour = (c: string) => CATEGORY_COLOURS[c] ?? '#444c56';

export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function StudioNodeViewImpl({ id, data, selected }: NodeProps<StudioNode>) {
  const studio = useStudio();
  const desc = studio.descs.get(data.nodeType);
  const run = useNodeRunState(id);
  // Re-render when the job finishes: that is when the node's frames become fetchable.
  useActiveJobStatus();
  const problems = studio.problems.get(id) ?? NO_PROBLEMS;

  if (!desc) {
    const ports = studio.missingPorts(id);
    return (
      <div className={`studio-node missing ${selected ? 'selected' : ''}`} data-testid={`node-${id}`} data-state="missing">
        <div className="node-header" style={{ background: '#7a1f1f' }}>
          <span className="node-title">{data.title ?? id}</span>
          <span className="badge badge-failed">missing</span>
        </div>
        <div className="node-body">
          <div className="missing-text">
            Unknown node type <code>{data.nodeType}</code>. This studio has no such node; install it or replace this node.
          </div>
          {ports.inputs.map((p) => (
            <PortRow key={`in-${p}`} side="in" port={p}>
              {p}
            </PortRow>
          ))}
          {ports.outputs.map((p) => (
            <PortRow key={`out-${p}`} side="out" port={p}>
              {p}
            </PortRow>
          ))}
        </div>
      </div>
    );
  }

  const state = run?.state;
  const hasFramesOut = Object.values(desc.outputs).some((o) => o.kind === 'frames' || o.kind === 'image');
  return (
    <div
      className={`studio-node state-${state ?? 'idle'} ${selected ? 'selected' : ''} ${problems.length ? 'has-problems' : ''}`}
      data-testid={`node-${id}`}
      data-state={state ?? 'idle'}
      data-type={data.nodeType}
    >
      <div className="node-header" style={{ background: categoryColour(desc.category) }} title={desc.description}>
        <span className="node-title">{data.title ?? desc.title}</span>
        <span className="node-id">{id !== data.nodeType ? id : ''}</span>
        <StateBadge run={run} />
      </div>
      {state === 'running' ? <Progress run={run!} /> : null}
      <div className="node-body">
        <NodeBody id={id} desc={desc} params={data.params} problems={problems} />
        {hasFramesOut ? <LivePreview nodeId={id} still={stillFor(id, run)} /> : null}
        {state === 'failed' && run?.error ? <div className="node-error">{run.error}</div> : null}
      </div>
    </div>
  );
}

const NO_PROBLEMS: WorkflowProblem[] = [];

/**
 * Ports, widgets and problems: memoised apart from the run state, so the many progress
 * events of a run re-render a node's header and progress bar, not its form.
 */
const NodeBody = memo(function NodeBody({ id, desc, params, problems }: { id: string; desc: NodeDescription; params: Record<string, unknown>; problems: WorkflowProblem[] }) {
  const studio = useStudio();
  const fields = useMemo(() => fieldsOf(desc), [desc]);
  const fieldProblems = new Map<string, string>();
  const nodeProblems: string[] = [];
  for (const p of problems) {
    const key = p.field?.startsWith('params.') ? p.field.slice(7) : undefined;
    if (key && fields.some((f) => f.key === key)) fieldProblems.set(key, p.message);
    else nodeProblems.push(p.message);
  }
  return (
    <>
        <div className="ports">
          <div className="ports-col">
            {Object.entries(desc.inputs).map(([port, spec]) => (
              <PortRow key={port} side="in" port={port} kind={spec.kind} title={`${spec.kind}${spec.description ? `: ${spec.description}` : ''}`}>
                {spec.label}
                {spec.optional ? <em> (optional)</em> : null}
              </PortRow>
            ))}
          </div>
          <div className="ports-col right">
            {Object.entries(desc.outputs).map(([port, spec]) => (
              <PortRow key={port} side="out" port={port} kind={spec.kind} title={spec.kind}>
                {spec.label}
              </PortRow>
            ))}
          </div>
        </div>
        {fields.length > 0 ? (
          <div className="params">
            {fields.map((f) => (
              <ParamField
                key={f.key}
                nodeId={id}
                field={f}
                value={params[f.key]}
                serverProblem={fieldProblems.get(f.key)}
                onChange={(v) => studio.setParam(id, f.key, v)}
                onUpload={f.widget === 'path' ? (file) => studio.uploadFor(id, f.key, file) : undefined}
              />
            ))}
          </div>
        ) : null}
        {nodeProblems.length > 0 ? (
          <ul className="node-problems" data-testid={`problems-${id}`}>
            {nodeProblems.map((m, i) => (
              <li key={i}>{m}</li>
            ))}
          </ul>
        ) : null}
    </>
  );
});

/** A labelled port with its handle on the node's edge, coloured by kind. */
function PortRow({ side, port, kind, title, children }: { side: 'in' | 'out'; port: string; kind?: string; title?: string; children: React.ReactNode }) {
  return (
    <div className={`port-row ${side}`} title={title}>
      <Handle
        type={side === 'in' ? 'target' : 'source'}
        position={side === 'in' ? Position.Left : Position.Right}
        id={port}
        className="typed-handle"
        style={{ background: kindColour(kind) }}
        data-kind={kind}
      />
      <span className="port-label">{children}</span>
    </div>
  );
}

function StateBadge({ run }: { run: NodeRunState | undefined }) {
  if (!run) return null;
  const text =
    run.state === 'done'
      ? `done ${formatMs(run.ms)}`
      : run.state === 'running'
        ? run.total > 0
          ? `${run.done}/${run.total}`
          : 'running'
        : run.state;
  return (
    <span className={`badge badge-${run.state}`} data-testid="node-state">
      {text}
    </span>
  );
}

function Progress({ run }: { run: NodeRunState }) {
  const frac = run.total > 0 ? Math.min(1, run.done / run.total) : 0;
  return (
    <div className="node-progress" title={run.label}>
      <div className={`bar ${run.total === 0 ? 'indeterminate' : ''}`} style={run.total > 0 ? { transform: `scaleX(${frac})` } : undefined} />
      <span className="progress-text">
        {run.label ? `${run.label} · ` : ''}
        {run.total > 0 ? `step ${run.done}/${run.total}` : 'starting'}
      </span>
    </div>
  );
}

/** A finished node's middle frame, for nodes that streamed nothing this run (cached ones). */
function stillFor(nodeId: string, run: NodeRunState | undefined): string | undefined {
  const job = runStore.getActive();
  const frames = run?.output?.frames;
  if (!job || !frames || !framesReady(job, nodeId)) return undefined;
  return frameUrl(job.id, nodeId, Math.floor(frames / 2));
}

export function LivePreview({ nodeId, large, still }: { nodeId: string; large?: boolean; still?: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const header = usePreviewHeader(nodeId);
  useEffect(() => (ref.current ? previews.attach(nodeId, ref.current) : undefined), [nodeId]);
  const caption = header
    ? header.kind === 'step'
      ? `step ${header.step ?? '?'}${header.steps ? `/${header.steps}` : ''} · ${header.count} frames`
      : `frame ${header.frame + 1}/${header.count}`
    : '';
  return (
    <div className={`live-preview ${header || still ? '' : 'empty'} ${large ? 'large' : ''}`} data-testid={`preview-${nodeId}`}>
      <canvas ref={ref} style={header ? undefined : { display: 'none' }} />
      {!header && still ? <img src={still} alt="" className="still" /> : null}
      {header ? (
        <div className="preview-caption">
          {caption} · {header.width}×{header.height}
        </div>
      ) : null}
    </div>
  );
}

export const StudioNodeView = memo(StudioNodeViewImpl);
