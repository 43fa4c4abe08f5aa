/**
 * The studio page: palette, canvas, inspector/queue/result, toolbar. The graph lives in
 * React state (React Flow nodes and edges); jobs and previews live in their own stores,
 * and only the components that show them subscribe, so streaming progress never
 * re-renders the canvas.
 */
import {
  Background,
  BackgroundVariant,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  ViewportPortal,
  applyEdgeChanges,
  applyNodeChanges,
  useConnection,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type FinalConnectionState,
  type NodeChange,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import type { NodeDescription } from '../../nodes/core/definition';
import { canonicalJson, formatProblem, parseWorkflow, WORKFLOW_FORMAT, WORKFLOW_VERSION, type Workflow, type WorkflowProblem } from '../../nodes/core/workflow';
import { api, ApiError, errorText, type WorkflowEntry } from './api';
import { StudioContext, type StudioContextValue } from './context';
import {
  edgeId,
  freshId,
  fromWorkflow,
  kindColour,
  makesCycle,
  portKind,
  portsFromEdges,
  refusal,
  styledEdge,
  toWorkflow,
  type DocInfo,
  type StudioEdge,
  type StudioNode,
} from './graph';
import { History, type Snapshot } from './history';
import { NODE_DRAG_TYPE, Palette, SearchPopup } from './Palette';
import { Gallery, Toasts, type Toast } from './Panels';
import { CancelButton, SidePanel, type SideTab } from './SidePanel';
import { emptyLatency, previews } from './previews';
import { runStore } from './runStore';
import { defaultParams } from './schema';
import { StudioSocket, useSocketStatus } from './socket';
import { categoryColour, StudioNodeView } from './StudioNodeView';

const nodeTypes = { studio: StudioNodeView };
const DRAFT_KEY = 'studio.draft.v1';
const DEFAULT_EXAMPLE = 'text-to-video';

interface Draft {
  workflow: unknown;
  savedId: string | null;
  baseline: string;
}

const slug = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64) || 'untitled';

const isEditable = (t: EventTarget | null) =>
  t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));

/** Validation does not depend on where nodes sit, so dragging does not re-validate. */
const validationKey = (wf: Workflow) => canonicalJson({ ...wf, nodes: wf.nodes.map(({ position: _p, ...n }) => n), meta: {} });

export function App() {
  return (
    <ReactFlowProvider>
      <Studio />
    </ReactFlowProvider>
  );
}

declare global {
  interface Window {
    /** Hooks for the end-to-end tests and the browser benchmark. */
    __studio?: {
      metrics: typeof previews.metrics;
      socket: StudioSocket;
      workflow(): Workflow;
      activeJobId(): string | null;
    };
  }
}

function Studio() {
  const rf = useReactFlow<StudioNode, StudioEdge>();
  const [descList, setDescList] = useState<NodeDescription[]>([]);
  const descs = useMemo(() => new Map(descList.map((d) => [d.type, d])), [descList]);
  const [loadError, setLoadError] = useState<string | undefined>();
  const [nodes, setNodes] = useState<StudioNode[]>([]);
  const [edges, setEdges] = useState<StudioEdge[]>([]);
  const [doc, setDoc] = useState<DocInfo>({ name: 'untitled', meta: {} });
  const [savedId, setSavedId] = useState<string | null>(null);
  const [baseline, setBaseline] = useState('');
  const [problems, setProblems] = useState<WorkflowProblem[]>([]);
  const [validating, setValidating] = useState(false);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [tab, setTab] = useState<SideTab>('inspect');
  const [resultReady, setResultReady] = useState(false);
  const [galleryOpen, setGalleryOpen] = useState(false);
  const [search, setSearch] = useState<{ x: number; y: number; flow: { x: number; y: number } } | null>(null);
  const [showProblems, setShowProblems] = useState(false);
  // Bumped on every open, so reopening an identical workflow is validated again.
  const [openCount, setOpenCount] = useState(0);
  const [dropping, setDropping] = useState(false);
  const [, setHistoryTick] = useState(0);
  const history = useRef(new History());
  const clipboard = useRef<Snapshot | null>(null);
  const pasteCount = useRef(0);
  const wrapper = useRef<HTMLDivElement>(null);

  const graph = useRef<Snapshot>({ nodes, edges });
  graph.current = { nodes, edges };
  const workflow = useMemo(() => toWorkflow(nodes, edges, doc), [nodes, edges, doc]);
  const workflowRef = useRef(workflow);
  workflowRef.current = workflow;
  const canonical = useMemo(() => canonicalJson(workflow), [workflow]);
  const dirty = baseline !== '' && canonical !== baseline;
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;

  const toast = useCallback((kind: Toast['kind'], text: string) => {
    const id = Date.now() + Math.random();
    setToasts((t) => [...t.slice(-2), { id, kind, text }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), kind === 'info' ? 4000 : 7000);
  }, []);

  const record = useCallback((coalesce?: string) => {
    history.current.record(graph.current, coalesce);
    setHistoryTick((t) => t + 1);
  }, []);

  // ---- socket -------------------------------------------------------------------------
  const socket = useMemo(
    () =>
      new StudioSocket({
        onEvent: (ev) => {
          if (ev.type === 'node.progress') previews.noteProgress(ev.jobId, ev.nodeId, ev.done);
          runStore.apply(ev);
        },
        onPreview: (data) => previews.push(data),
        onOpen: (reconnect) => {
          const requestedAt = performance.now();
          api.jobs().then(
            (list) => runStore.mergeList(list, requestedAt),
            () => undefined,
          );
          if (reconnect) toast('info', 'Reconnected to the server.');
        },
      }),
    [toast],
  );
  const socketStatus = useSocketStatus(socket);
  useEffect(() => {
    socket.start();
    return () => socket.stop();
  }, [socket]);

  useEffect(() => {
    runStore.onFinished = (job) => {
      if (job.id !== runStore.activeJobId) return;
      setResultReady(true);
      toast('info', `Finished in ${((job.ms ?? 0) / 1000).toFixed(1)} s. The video is in the Result tab.`);
    };
  }, [toast]);

  useEffect(() => {
    window.__studio = {
      metrics: previews.metrics,
      socket,
      workflow: () => workflowRef.current,
      activeJobId: () => runStore.activeJobId,
    };
  }, [socket]);

  // ---- opening documents --------------------------------------------------------------
  const openWorkflow = useCallback(
    (raw: unknown, opts: { savedId?: string | null; source?: string } = {}) => {
      const parsed = parseWorkflow(raw);
      if (!parsed.ok) {
        toast('error', `Cannot open ${opts.source ?? 'the workflow'}: ${parsed.problems.slice(0, 3).map(formatProblem).join('; ')}`);
        return false;
      }
      const wf = parsed.workflow;
      const g = fromWorkflow(wf, descs);
      setNodes(g.nodes);
      setEdges(g.edges);
      setDoc({ name: wf.name, meta: wf.meta });
      setSavedId(opts.savedId ?? null);
      setBaseline(canonicalJson(toWorkflow(g.nodes, g.edges, { name: wf.name, meta: wf.meta })));
      setOpenCount((c) => c + 1);
      history.current.clear();
      setHistoryTick((t) => t + 1);
      const missing = [...new Set(wf.nodes.filter((n) => !descs.has(n.type)).map((n) => n.type))];
      if (missing.length > 0 && descs.size > 0) toast('error', `This workflow uses node types this studio does not have: ${missing.join(', ')}`);
      requestAnimationFrame(() => requestAnimationFrame(() => rf.fitView({ padding: 0.15, duration: 200 })));
      return true;
    },
    [descs, rf, toast],
  );

  const confirmDiscard = useCallback(
    () => !dirtyRef.current || window.confirm(`Discard unsaved changes to "${workflowRef.current.name}"?`),
    [],
  );

  const openEntry = useCallback(
    async (entry: WorkflowEntry) => {
      if (!confirmDiscard()) return;
      try {
        const wf = await api.workflow(entry.source, entry.id);
        if (openWorkflow(wf, { savedId: entry.source === 'saved' ? entry.id : null, source: entry.name })) {
          setGalleryOpen(false);
          toast('info', `Opened "${entry.name}".`);
        }
      } catch (e) {
        toast('error', errorText(e));
      }
    },
    [confirmDiscard, openWorkflow, toast],
  );

  const openFile = useCallback(
    async (file: File) => {
      if (!confirmDiscard()) return;
      try {
        if (file.name.toLowerCase().endsWith('.json') || file.type === 'application/json') {
          if (openWorkflow(await file.text(), { source: file.name })) toast('info', `Opened ${file.name}.`);
        } else {
          const res = await api.extractWorkflow(file);
          if (openWorkflow(res.workflow, { source: file.name })) {
            toast('info', `Opened the workflow embedded in ${file.name}${res.seed != null ? ` (seed ${res.seed})` : ''}.`);
          }
        }
        setGalleryOpen(false);
      } catch (e) {
        toast('error', `Cannot open ${file.name}: ${errorText(e)}`);
      }
    },
    [confirmDiscard, openWorkflow, toast],
  );

  // First load: node descriptions, then the draft from the last visit or the default example.
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    api.nodes().then(
      (list) => setDescList(list),
      (e: unknown) => setLoadError(`Could not load node types: ${errorText(e)}`),
    );
  }, []);
  const opened = useRef(false);
  useEffect(() => {
    if (opened.current || (descs.size === 0 && !loadError)) return;
    opened.current = true;
    const draftText = localStorage.getItem(DRAFT_KEY);
    if (draftText) {
      try {
        const draft = JSON.parse(draftText) as Draft;
        if (openWorkflow(draft.workflow, { savedId: draft.savedId, source: 'the last session' })) {
          setBaseline(draft.baseline);
          return;
        }
      } catch {
        // a broken draft falls through to the example
      }
    }
    api
      .workflow('example', DEFAULT_EXAMPLE)
      .then((wf) => openWorkflow(wf, { source: 'the default example' }))
      .catch((e: unknown) => toast('error', `Could not load the default workflow: ${errorText(e)}`));
  }, [descs, loadError, openWorkflow, toast]);

  // Keep a draft so a reload (or a crash) does not lose work.
  useEffect(() => {
    if (!opened.current || baseline === '') return;
    const t = setTimeout(() => {
      const draft: Draft = { workflow: workflowRef.current, savedId, baseline };
      localStorage.setItem(DRAFT_KEY, JSON.stringify(draft));
    }, 300);
    return () => clearTimeout(t);
  }, [canonical, savedId, baseline]);

  useEffect(() => {
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (!dirtyRef.current) return;
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, []);

  // ---- validation ---------------------------------------------------------------------
  const vKey = useMemo(() => validationKey(workflow), [workflow]);
  const validationSeq = useRef(0);
  useEffect(() => {
    if (descs.size === 0 || nodes.length === 0) {
      setProblems([]);
      return;
    }
    const seq = ++validationSeq.current;
    setValidating(true);
    const t = setTimeout(() => {
      api.validate(workflowRef.current).then(
        (res) => {
          if (seq !== validationSeq.current) return;
          setProblems(res.problems);
          setValidating(false);
        },
        (e: unknown) => {
          if (seq !== validationSeq.current) return;
          setValidating(false);
          setProblems([{ code: 'schema', message: `validation failed: ${errorText(e)}` }]);
        },
      );
    }, 350);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [vKey, descs, openCount]);

  const problemsByNode = useMemo(() => {
    const m = new Map<string, WorkflowProblem[]>();
    for (const p of problems) if (p.node) m.set(p.node, [...(m.get(p.node) ?? []), p]);
    return m;
  }, [problems]);

  // ---- editing ------------------------------------------------------------------------
  const setParam = useCallback(
    (nodeId: string, key: string, value: unknown) => {
      record(`param:${nodeId}.${key}`);
      setNodes((ns) =>
        ns.map((n) => {
          if (n.id !== nodeId) return n;
          const params = { ...n.data.params };
          if (value === undefined) delete params[key];
          else params[key] = value;
          return { ...n, data: { ...n.data, params } };
        }),
      );
    },
    [record],
  );

  const uploadFor = useCallback(
    (nodeId: string, key: string, file: File) => {
      api.upload(file).then(
        (res) => {
          setParam(nodeId, key, res.path);
          toast('info', `Uploaded ${res.name}.`);
        },
        (e: unknown) => toast('error', `Upload failed: ${errorText(e)}`),
      );
    },
    [setParam, toast],
  );

  const missingPorts = useCallback((id: string) => portsFromEdges(id, graph.current.edges), []);

  const studio: StudioContextValue = useMemo(
    () => ({ descs, problems: problemsByNode, setParam, missingPorts, uploadFor }),
    [descs, problemsByNode, setParam, missingPorts, uploadFor],
  );

  const addNode = useCallback(
    (type: string, position?: { x: number; y: number }) => {
      const desc = descs.get(type);
      if (!desc) return;
      const taken = new Set(graph.current.nodes.map((n) => n.id));
      const id = freshId(type, taken);
      let pos = position;
      if (!pos) {
        const rect = wrapper.current?.getBoundingClientRect();
        pos = rf.screenToFlowPosition({ x: (rect?.left ?? 0) + (rect?.width ?? 800) / 2 - 140, y: (rect?.top ?? 0) + (rect?.height ?? 600) / 3 });
      }
      record();
      const node: StudioNode = { id, type: 'studio', position: pos, data: { nodeType: type, params: defaultParams(desc) }, selected: true };
      setNodes((ns) => [...ns.map((n) => (n.selected ? { ...n, selected: false } : n)), node]);
    },
    [descs, record, rf],
  );

  const onNodesChange = useCallback((changes: NodeChange<StudioNode>[]) => {
    setNodes((ns) => applyNodeChanges(changes, ns));
  }, []);
  const onEdgesChange = useCallback((changes: EdgeChange<StudioEdge>[]) => {
    setEdges((es) => applyEdgeChanges(changes, es));
  }, []);

  const isValidConnection = useCallback(
    (c: Connection | StudioEdge) =>
      refusal(graph.current.nodes, descs, c) === null && !makesCycle(graph.current.edges, c.source, c.target),
    [descs],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      const why = refusal(graph.current.nodes, descs, c) ?? (makesCycle(graph.current.edges, c.source, c.target) ? 'that would make a cycle' : null);
      if (why) {
        toast('refusal', `Connection refused: ${why}`);
        return;
      }
      record();
      const from = graph.current.nodes.find((n) => n.id === c.source);
      const kind = portKind(descs.get(from?.data.nodeType ?? ''), 'out', c.sourceHandle ?? '');
      const edge = styledEdge(
        {
          id: edgeId({ node: c.source, port: c.sourceHandle ?? '' }, { node: c.target, port: c.targetHandle ?? '' }),
          source: c.source,
          sourceHandle: c.sourceHandle,
          target: c.target,
          targetHandle: c.targetHandle,
        },
        kind,
      );
      // An input takes one edge: a new connection replaces the old one.
      setEdges((es) => [...es.filter((e) => !(e.target === c.target && e.targetHandle === c.targetHandle)), edge]);
    },
    [descs, record, toast],
  );

  const onConnectEnd = useCallback(
    (_: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid || !state.toHandle || !state.fromHandle) return;
      const fromIsSource = state.fromHandle.type === 'source';
      const src = fromIsSource ? state.fromHandle : state.toHandle;
      const dst = fromIsSource ? state.toHandle : state.fromHandle;
      if (src.type !== 'source' || dst.type !== 'target') {
        toast('refusal', 'Connection refused: connect an output (right side) to an input (left side).');
        return;
      }
      const c = { source: src.nodeId, sourceHandle: src.id, target: dst.nodeId, targetHandle: dst.id };
      const why = refusal(graph.current.nodes, descs, c) ?? (makesCycle(graph.current.edges, c.source, c.target) ? 'that would make a cycle' : null);
      if (why) toast('refusal', `Connection refused: ${why}`);
    },
    [descs, toast],
  );

  const undo = useCallback(() => {
    const prev = history.current.undo(graph.current);
    if (!prev) return;
    setNodes(prev.nodes);
    setEdges(prev.edges);
    setHistoryTick((t) => t + 1);
  }, []);
  const redo = useCallback(() => {
    const next = history.current.redo(graph.current);
    if (!next) return;
    setNodes(next.nodes);
    setEdges(next.edges);
    setHistoryTick((t) => t + 1);
  }, []);

  const copy = useCallback(() => {
    const sel = graph.current.nodes.filter((n) => n.selected);
    if (sel.length === 0) return false;
    const ids = new Set(sel.map((n) => n.id));
    clipboard.current = { nodes: sel, edges: graph.current.edges.filter((e) => ids.has(e.source) && ids.has(e.target)) };
    pasteCount.current = 0;
    return true;
  }, []);

  const paste = useCallback(
    (snap: Snapshot | null = clipboard.current) => {
      if (!snap || snap.nodes.length === 0) return;
      pasteCount.current += 1;
      const offset = 40 * pasteCount.current;
      const taken = new Set(graph.current.nodes.map((n) => n.id));
      const rename = new Map<string, string>();
      for (const n of snap.nodes) {
        const id = freshId(n.id.replace(/-\d+$/, ''), taken);
        taken.add(id);
        rename.set(n.id, id);
      }
      record();
      const newNodes: StudioNode[] = snap.nodes.map((n) => ({
        id: rename.get(n.id)!,
        type: 'studio',
        position: { x: n.position.x + offset, y: n.position.y + offset },
        data: { ...n.data, params: structuredClone(n.data.params) },
        selected: true,
      }));
      const newEdges = snap.edges.map((e) => {
        const from = { node: rename.get(e.source)!, port: e.sourceHandle ?? '' };
        const to = { node: rename.get(e.target)!, port: e.targetHandle ?? '' };
        return styledEdge({ id: edgeId(from, to), source: from.node, sourceHandle: from.port, target: to.node, targetHandle: to.port }, e.data?.kind);
      });
      setNodes((ns) => [...ns.map((n) => (n.selected ? { ...n, selected: false } : n)), ...newNodes]);
      setEdges((es) => [...es.map((e) => (e.selected ? { ...e, selected: false } : e)), ...newEdges]);
    },
    [record],
  );

  const duplicate = useCallback(() => {
    const sel = graph.current.nodes.filter((n) => n.selected);
    if (sel.length === 0) return;
    const ids = new Set(sel.map((n) => n.id));
    const saved = pasteCount.current;
    pasteCount.current = 0;
    paste({ nodes: sel, edges: graph.current.edges.filter((e) => ids.has(e.source) && ids.has(e.target)) });
    pasteCount.current = saved;
  }, [paste]);

  const deleteSelected = useCallback(() => {
    const { nodes: ns, edges: es } = graph.current;
    const gone = new Set(ns.filter((n) => n.selected).map((n) => n.id));
    if (gone.size === 0 && !es.some((e) => e.selected)) return;
    record();
    setNodes(ns.filter((n) => !gone.has(n.id)));
    setEdges(es.filter((e) => !e.selected && !gone.has(e.source) && !gone.has(e.target)));
  }, [record]);

  // ---- documents ----------------------------------------------------------------------
  const newWorkflow = useCallback(() => {
    if (!confirmDiscard()) return;
    openWorkflow({ format: WORKFLOW_FORMAT, version: WORKFLOW_VERSION, name: 'untitled', nodes: [], edges: [], meta: {} });
  }, [confirmDiscard, openWorkflow]);

  const save = useCallback(async () => {
    const wf = workflowRef.current;
    const id = savedId ?? slug(wf.name);
    try {
      if (!savedId) {
        const existing = await api.workflows();
        if (existing.some((e) => e.source === 'saved' && e.id === id) && !window.confirm(`Replace "${id}" in your library?`)) return;
      }
      const res = await api.saveWorkflow(id, wf);
      setSavedId(res.id);
      setBaseline(canonicalJson(wf));
      toast('info', `Saved "${wf.name}" to your library as ${res.id}.`);
    } catch (e) {
      toast('error', `Save failed: ${errorText(e)}`);
    }
  }, [savedId, toast]);

  const download = useCallback(() => {
    const wf = workflowRef.current;
    const blob = new Blob([JSON.stringify(wf, null, 2)], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${slug(wf.name)}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }, []);

  // ---- running ------------------------------------------------------------------------
  const run = useCallback(async () => {
    previews.metrics.runPressedAt = performance.now();
    previews.metrics.firstPaintAt = null;
    previews.metrics.latency = emptyLatency();
    previews.metrics.clientLatency = emptyLatency();
    try {
      const job = await api.submit({ workflow: workflowRef.current, device: 'cpu' });
      runStore.add(job);
      runStore.setActive(job.id);
      previews.follow(job.id);
      setResultReady(false);
    } catch (e) {
      if (e instanceof ApiError && e.problems.length > 0) {
        setProblems(e.problems);
        toast('error', `The workflow has ${e.problems.length} problem${e.problems.length > 1 ? 's' : ''}: ${formatProblem(e.problems[0]!)}`);
      } else toast('error', `Run failed: ${errorText(e)}`);
    }
  }, [toast]);

  const cancel = useCallback(async (id?: string) => {
    const target = id ?? runStore.activeJobId;
    if (!target) return;
    try {
      await api.cancel(target);
    } catch (e) {
      toast('error', `Cancel failed: ${errorText(e)}`);
    }
  }, [toast]);

  const viewJob = useCallback((id: string) => {
    runStore.setActive(id);
    previews.follow(id);
  }, []);

  // ---- keyboard -----------------------------------------------------------------------
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === 'enter') {
        e.preventDefault();
        void run();
        return;
      }
      if (mod && key === 's') {
        e.preventDefault();
        void save();
        return;
      }
      if (isEditable(e.target)) return;
      if (mod && key === 'z' && !e.shiftKey) undo();
      else if (mod && (key === 'y' || (key === 'z' && e.shiftKey))) redo();
      else if (mod && key === 'c') copy();
      else if (mod && key === 'x') {
        if (copy()) deleteSelected();
      } else if (mod && key === 'v') paste();
      else if (mod && key === 'd') duplicate();
      else if (mod && key === 'a') {
        setNodes((ns) => ns.map((n) => ({ ...n, selected: true })));
      } else if (!mod && key === 'f') void rf.fitView({ padding: 0.15, duration: 200 });
      else if (key === 'escape') setSearch(null);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [run, save, undo, redo, copy, paste, duplicate, deleteSelected, rf]);

  // ---- drag and drop ------------------------------------------------------------------
  const onDragOver = (e: DragEvent) => {
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    if (e.dataTransfer.types.includes('Files')) setDropping(true);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDropping(false);
    const type = e.dataTransfer.getData(NODE_DRAG_TYPE);
    if (type) {
      addNode(type, rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
      return;
    }
    const file = e.dataTransfer.files[0];
    if (file) void openFile(file);
  };

  const onPaneDoubleClick = (e: React.MouseEvent) => {
    const target = e.target as HTMLElement;
    if (!target.classList.contains('react-flow__pane')) return;
    const rect = wrapper.current!.getBoundingClientRect();
    setSearch({ x: e.clientX - rect.left, y: e.clientY - rect.top, flow: rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }) });
  };

  const selectedNode = useMemo(() => {
    const sel = nodes.filter((n) => n.selected);
    return sel.length === 1 ? sel[0]! : null;
  }, [nodes]);
  const exportFps = useMemo(() => {
    const exp = nodes.find((n) => n.data.nodeType === 'export');
    const fps = exp?.data.params.fps;
    return typeof fps === 'number' && fps > 0 ? fps : 8;
  }, [nodes]);

  const globalProblems = problems.filter((p) => !p.node || !nodes.some((n) => n.id === p.node));

  return (
    <StudioContext.Provider value={studio}>
      <div className="app">
        <header className="toolbar">
          <div className="brand">
            <span className="logo">▶</span> Studio
          </div>
          <input
            className="doc-name"
            value={doc.name}
            onChange={(e) => setDoc((d) => ({ ...d, name: e.target.value }))}
            data-testid="doc-name"
            title="Workflow name"
          />
          <span className={`dirty ${dirty ? 'on' : ''}`} title={dirty ? 'Unsaved changes' : 'Saved'} data-testid="dirty">
            {dirty ? '● unsaved' : savedId ? '✓ saved' : ''}
          </span>
          <div className="tool-group">
            <button type="button" onClick={newWorkflow} title="New workflow">
              New
            </button>
            <button type="button" onClick={() => setGalleryOpen(true)} data-testid="open" title="Examples and your library">
              Open
            </button>
            <button type="button" onClick={() => void save()} data-testid="save" title="Save to the library (Ctrl+S)">
              Save
            </button>
            <button type="button" onClick={download} data-testid="download-json" title="Download as .json">
              ⤓ JSON
            </button>
          </div>
          <div className="tool-group">
            <button type="button" onClick={undo} disabled={!history.current.canUndo} title="Undo (Ctrl+Z)" data-testid="undo">
              ↶
            </button>
            <button type="button" onClick={redo} disabled={!history.current.canRedo} title="Redo (Ctrl+Shift+Z)" data-testid="redo">
              ↷
            </button>
            <button type="button" onClick={() => void rf.fitView({ padding: 0.15, duration: 200 })} title="Fit view (F)">
              ⤢
            </button>
          </div>
          <button
            type="button"
            className={`validity ${problems.length ? 'bad' : 'good'}`}
            onClick={() => setShowProblems((s) => !s)}
            data-testid="validity"
          >
            {validating ? '… checking' : problems.length ? `⚠ ${problems.length} problem${problems.length > 1 ? 's' : ''}` : '✓ valid'}
          </button>
          <div className="spacer" />
          <span className={`conn conn-${socketStatus}`} data-testid="conn" title="Live connection to the server">
            <i /> {socketStatus === 'open' ? 'live' : socketStatus === 'connecting' ? 'connecting…' : 'reconnecting…'}
          </span>
          <CancelButton onCancel={() => void cancel()} />
          <button type="button" className="primary run" onClick={() => void run()} data-testid="run" title="Run (Ctrl+Enter)">
            ▶ Run
          </button>
        </header>
        {showProblems && problems.length > 0 ? (
          <div className="problems-pop" data-testid="problems-list" onClick={() => setShowProblems(false)}>
            {problems.map((p, i) => (
              <div key={i}>{formatProblem(p)}</div>
            ))}
          </div>
        ) : null}
        <div className="main">
          <Palette descs={descList} onAdd={(t) => addNode(t)} error={loadError} />
          <div
            className={`canvas ${dropping ? 'dropping' : ''}`}
            ref={wrapper}
            onDragOver={onDragOver}
            onDragLeave={() => setDropping(false)}
            onDrop={onDrop}
            onDoubleClick={onPaneDoubleClick}
            data-testid="canvas"
          >
            <ReactFlow<StudioNode, StudioEdge>
              nodes={nodes}
              edges={edges}
              nodeTypes={nodeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              onConnectEnd={onConnectEnd}
              isValidConnection={isValidConnection}
              onBeforeDelete={async () => {
                record();
                return true;
              }}
              onNodeDragStart={() => record()}
              deleteKeyCode={['Delete', 'Backspace']}
              multiSelectionKeyCode={['Control', 'Meta', 'Shift']}
              selectionKeyCode="Shift"
              zoomOnDoubleClick={false}
              minZoom={0.1}
              maxZoom={2.5}
              colorMode="dark"
              proOptions={{ hideAttribution: true }}
              defaultEdgeOptions={{ type: 'default' }}
              fitView
            >
              <Background variant={BackgroundVariant.Dots} gap={22} size={1.2} color="#2c333d" />
              <MiniMap pannable zoomable style={{ width: 170, height: 110 }} nodeColor={(n) => categoryColour(descs.get((n as StudioNode).data.nodeType)?.category ?? '')} maskColor="rgba(10,12,16,0.7)" />
              <Controls showInteractive={false} />
              <ConnectionHint descs={descs} nodes={nodes} edges={edges} />
            </ReactFlow>
            {nodes.length === 0 && descs.size > 0 ? (
              <div className="canvas-hint">Double-click the canvas to add a node, drag one from the palette, or drop a workflow file here.</div>
            ) : null}
            {dropping ? <div className="drop-hint">Drop a workflow .json, or a video/PNG this studio exported</div> : null}
            {search ? (
              <SearchPopup
                descs={descList}
                at={{ x: search.x, y: search.y }}
                onPick={(t) => {
                  addNode(t, search.flow);
                  setSearch(null);
                }}
                onClose={() => setSearch(null)}
              />
            ) : null}
            {globalProblems.length > 0 ? (
              <div className="global-problems">
                {globalProblems.slice(0, 4).map((p, i) => (
                  <div key={i}>⚠ {formatProblem(p)}</div>
                ))}
              </div>
            ) : null}
          </div>
          <SidePanel
            tab={tab}
            setTab={setTab}
            resultReady={resultReady}
            clearResultReady={() => setResultReady(false)}
            selectedNode={selectedNode}
            nodes={nodes}
            fallbackFps={exportFps}
            onView={viewJob}
            onCancel={(id) => void cancel(id)}
            onRemove={(id) => void api.removeJob(id).catch((e: unknown) => toast('error', errorText(e)))}
          />
        </div>
        <Toasts toasts={toasts} onDismiss={(id) => setToasts((t) => t.filter((x) => x.id !== id))} />
        {galleryOpen ? <Gallery onOpen={(e) => void openEntry(e)} onClose={() => setGalleryOpen(false)} onOpenFile={(f) => void openFile(f)} /> : null}
      </div>
    </StudioContext.Provider>
  );
}

/** While a connection is dragged over a port that refuses it, says why, at the pointer. */
function ConnectionHint({ descs, nodes, edges }: { descs: Map<string, NodeDescription>; nodes: StudioNode[]; edges: StudioEdge[] }) {
  const c = useConnection();
  if (!c.inProgress || c.isValid !== false || !c.toHandle) return null;
  const fromIsSource = c.fromHandle.type === 'source';
  const src = fromIsSource ? c.fromHandle : c.toHandle;
  const dst = fromIsSource ? c.toHandle : c.fromHandle;
  const conn = { source: src.nodeId, sourceHandle: src.id, target: dst.nodeId, targetHandle: dst.id };
  const why =
    src.type !== 'source' || dst.type !== 'target'
      ? 'outputs connect to inputs'
      : (refusal(nodes, descs, conn) ?? (makesCycle(edges, conn.source, conn.target) ? 'that would make a cycle' : null));
  if (!why) return null;
  const fromKind = portKind(descs.get(nodes.find((n) => n.id === src.nodeId)?.data.nodeType ?? ''), 'out', src.id ?? '');
  return (
    <ViewportPortal>
      <div className="connection-hint" style={{ transform: `translate(${c.to.x + 14}px, ${c.to.y + 14}px)`, borderColor: kindColour(fromKind) }} data-testid="connection-hint">
        ✕ {why}
      </div>
    </ViewportPortal>
  );
}
