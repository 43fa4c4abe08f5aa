/**
 * Keeping and sharing workflows, and surviving the connection: save to the library,
 * reload and reopen, open dropped files (including one with an unknown node type),
 * reconnect after a dropped socket and after a server restart. Needs no models.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, Shots, startServer, waitFor, watchPage } from './harness';
import { dropFile, nodeSel, promptText } from './page';
import { assert, type Spec } from './spec';

const PROMPT = 'a blue star moving left on a white background';

export const spec: Spec = {
  name: 'library',
  timeoutMs: 5 * 60_000,
  async run({ browser, server, step }) {
    const context = await browser.newContext({ viewport: { width: 1600, height: 950 } });
    const page = await context.newPage();
    const watch = watchPage(page);
    const dialogs: string[] = [];
    let acceptDialogs = true;
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void (acceptDialogs ? d.accept() : d.dismiss());
    });
    const shots = new Shots('library');

    await step('open the page and edit the prompt', async () => {
      await page.goto(server.url);
      await page.locator(nodeSel('prompt')).waitFor({ timeout: 20_000 });
      await page.locator(`${nodeSel('prompt')} textarea`).fill(PROMPT);
      await waitFor('the unsaved mark', async () => (await page.locator('[data-testid="dirty"]').textContent())?.includes('unsaved'), 5000);
    });

    await step('unsaved changes: New asks first, and keeps the graph when told no', async () => {
      acceptDialogs = false;
      await page.click('button:has-text("New")');
      await waitFor('the question', async () => dialogs.some((m) => m.includes('Discard unsaved changes')), 3000);
      assert((await promptText(page)) === PROMPT, 'the graph is still there');
      acceptDialogs = true;
    });

    await step('save the workflow to the library', async () => {
      await page.locator('[data-testid="doc-name"]').fill('E2E saved workflow');
      await page.click('[data-testid="save"]');
      await waitFor('saved', async () => (await page.locator('[data-testid="dirty"]').textContent())?.includes('saved') && !(await page.locator('[data-testid="dirty"]').textContent())?.includes('unsaved'), 5000);
      const list = (await (await fetch(`${server.url}/api/workflows`)).json()) as { id: string; source: string }[];
      assert(list.some((w) => w.source === 'saved' && w.id === 'e2e-saved-workflow'), `library: ${JSON.stringify(list)}`);
      await shots.take(page, 'saved');
    });

    await step('reload the page and reopen the saved workflow', async () => {
      await page.reload();
      await page.locator(nodeSel('prompt')).waitFor({ timeout: 20_000 });
      await page.click('[data-testid="open"]');
      await page.click('[data-testid="open-saved-e2e-saved-workflow"]');
      await page.locator('[data-testid="gallery"]').waitFor({ state: 'detached' });
      assert((await promptText(page)) === PROMPT, `prompt after reopen: ${await promptText(page)}`);
      assert((await page.locator('[data-testid="doc-name"]').inputValue()) === 'E2E saved workflow', 'name after reopen');
      await shots.take(page, 'reopened');
    });

    await step('drag a workflow file onto the canvas', async () => {
      const wf = JSON.parse(readFileSync(path.join(ROOT, 'workflows', 'text-to-video.json'), 'utf8')) as { name: string };
      wf.name = 'Dropped file';
      await dropFile(page, { name: 'dropped.json', type: 'application/json', base64: Buffer.from(JSON.stringify(wf)).toString('base64') });
      await waitFor('the dropped workflow', async () => (await page.locator('[data-testid="doc-name"]').inputValue()) === 'Dropped file', 5000);
      await shots.take(page, 'dropped-json');
    });

    await step('a workflow with an unknown node type opens with a red missing node', async () => {
      const wf = JSON.parse(readFileSync(path.join(ROOT, 'workflows', 'text-to-video.json'), 'utf8')) as { nodes: { type: string; id: string }[]; name: string };
      wf.name = 'Has a missing node';
      wf.nodes.find((n) => n.id === 'upscale')!.type = 'frobnicate';
      await dropFile(page, { name: 'missing.json', type: 'application/json', base64: Buffer.from(JSON.stringify(wf)).toString('base64') });
      const missing = page.locator(`${nodeSel('upscale')}[data-state="missing"]`);
      await missing.waitFor({ timeout: 5000 });
      assert((await missing.textContent())?.includes('frobnicate'), 'the missing node names its type');
      await shots.take(page, 'missing-node');
    });

    await step('a dropped socket reconnects and resyncs', async () => {
      await page.evaluate(() => window.__studio!.socket.drop());
      await waitFor('reconnecting', async () => (await page.locator('[data-testid="conn"]').textContent())?.includes('reconnecting'), 3000, 20);
      await waitFor('live again', async () => (await page.locator('[data-testid="conn"]').textContent())?.includes('live'), 15_000);
    });

    await step('a server restart: the page reconnects by itself', async () => {
      await server.stop();
      await waitFor('reconnecting', async () => (await page.locator('[data-testid="conn"]').textContent())?.includes('reconnecting'), 10_000);
      await shots.take(page, 'server-down');
      const again = await startServer({ port: server.port });
      try {
        await waitFor('live again', async () => (await page.locator('[data-testid="conn"]').textContent())?.includes('live'), 30_000);
        // The queue shows what the new server has.
        const jobs = (await (await fetch(`${again.url}/api/jobs`)).json()) as unknown[];
        await page.click('[data-testid="tab-queue"]');
        await waitFor('the resynced queue', async () => (await page.locator('[data-testid^="job-"]').count()) === jobs.length, 10_000);
        assert((await promptText(page)).length > 0, 'the graph survived the restart');
        await shots.take(page, 'reconnected');
      } finally {
        await again.stop();
      }
    });

    await step('no errors in the page', async () => {
      assert(watch.errors.length === 0, `page errors:\n${watch.errors.join('\n')}`);
    });

    await context.close();
  },
};
