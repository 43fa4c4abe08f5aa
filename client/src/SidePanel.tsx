/** The right-hand panel and the Cancel button: the only parts of the page that follow every job event. */
import type { JobSummary } from '../../nodes/core/protocol';
import type { StudioNode } from './graph';
import { Inspector } from './Inspector';
import { QueuePanel, ResultPanel } from './Panels';
import { useActiveJob, useJobs } from './runStore';

export type SideTab = 'inspect' | 'queue' | 'result';

const isLive = (j: JobSummary | undefined) => j?.status === 'running' || j?.status === 'pending';

export function CancelButton({ onCancel }: { onCancel(): void }) {
  const job = useActiveJob();
  if (!isLive(job)) return null;
  return (
    <button type="button" className="danger" onClick={onCancel} data-testid="cancel">
      ■ Cancel
    </button>
  );
}

export function SidePanel(props: {
  tab: SideTab;
  setTab(tab: SideTab): void;
  resultReady: boolean;
  clearResultReady(): void;
  selectedNode: StudioNode | null;
  nodes: StudioNode[];
  fallbackFps: number;
  onView(id: string): void;
  onCancel(id: string): void;
  onRemove(id: string): void;
}) {
  const jobs = useJobs();
  const job = useActiveJob();
  const { tab, setTab } = props;
  const live = jobs.filter(isLive).length;
  return (
    <aside className="side">
      <div className="tabs">
        <button type="button" className={tab === 'inspect' ? 'on' : ''} onClick={() => setTab('inspect')} data-testid="tab-inspect">
          Inspector
        </button>
        <button type="button" className={tab === 'queue' ? 'on' : ''} onClick={() => setTab('queue')} data-testid="tab-queue">
          Queue {live > 0 ? <span className="count">{live}</span> : null}
        </button>
        <button
          type="button"
          className={`${tab === 'result' ? 'on' : ''} ${props.resultReady && tab !== 'result' ? 'attention' : ''}`}
          onClick={() => {
            setTab('result');
            props.clearResultReady();
          }}
          data-testid="tab-result"
        >
          Result {props.resultReady && tab !== 'result' ? '●' : ''}
        </button>
      </div>
      <div className="tab-body">
        {tab === 'inspect' ? <Inspector job={job} node={props.selectedNode} nodes={props.nodes} fallbackFps={props.fallbackFps} /> : null}
        {tab === 'queue' ? <QueuePanel jobs={jobs} activeId={job?.id ?? null} onView={props.onView} onCancel={props.onCancel} onRemove={props.onRemove} /> : null}
        {tab === 'result' ? <ResultPanel job={job} /> : null}
      </div>
    </aside>
  );
}
