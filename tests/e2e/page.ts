/** Page helpers the browser specs share: selectors, file drops, reading the graph. */
import type { Page } from 'playwright-core';
import { assert } from './spec';

export const nodeSel = (id: string) => `[data-testid="node-${id}"]`;
export const handleSel = (id: string, side: 'source' | 'target', port: string) => `${nodeSel(id)} .react-flow__handle.${side}[data-handleid="${port}"]`;

export async function center(page: Page, selector: string) {
  const box = await page.locator(selector).boundingBox();
  assert(box, `${selector} is not visible`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

export async function nodeIds(page: Page): Promise<string[]> {
  return page.evaluate(() => window.__studio!.workflow().nodes.map((n) => n.id));
}

export async function dropFile(page: Page, file: { name: string; type: string; base64: string }) {
  const dt = await page.evaluateHandle((f) => {
    const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], f.name, { type: f.type }));
    return transfer;
  }, file);
  await page.dispatchEvent('[data-testid="canvas"]', 'dragover', { dataTransfer: dt });
  await page.dispatchEvent('[data-testid="canvas"]', 'drop', { dataTransfer: dt });
}

export async function promptText(page: Page) {
  return page.locator(`${nodeSel('prompt')} textarea`).inputValue();
}

