// Drives the VS Code workbench through its DOM as a user would (keyboard, palette, views, hovers) and reads
// back what the user would see. Every wait is for a DOM condition, never a fixed delay.
import type { Locator, Page } from 'playwright-core';

/** What VS Code renders for one editor line. */
export interface LineDecorations {
  line: number;
  /** The text of the line as rendered (without before/after decoration text). */
  text: string;
  /** Class names of the whole-line overlay elements (line background decorations, current-line highlight). */
  overlayClasses: string[];
  /** Computed background colours of those overlay elements, transparent ones left out. */
  backgrounds: string[];
  /** Class names of the inline spans of the line (inline decorations are extra classes on them). */
  inlineClasses: string[];
  /** `contentText` of `before` decorations (CSS ::before content), in order. */
  before: string[];
  /** `contentText` of `after` decorations (CSS ::after content), in order. */
  after: string[];
  /** Class names of the margin elements of the line (gutter icons: glyph margin and line decorations). */
  gutterClasses: string[];
  /** background-image URLs of gutter elements (gutterIconPath). */
  gutterIcons: string[];
}

/** One coloured band of the editor's overview ruler (right edge), with the lines it covers (estimated). */
export interface RulerBand {
  color: string;
  fromLine: number;
  toLine: number;
}

export interface TreeItem {
  label: string;
  description: string;
  /** 1 for top-level items. */
  depth: number;
  /** true/false for collapsible items, undefined for leaves. */
  expanded: boolean | undefined;
}

export interface VariableRow {
  name: string;
  value: string;
  depth: number;
  /** true for scope rows (Locals, Registers, Taint, ...). */
  scope: boolean;
  expanded: boolean | undefined;
}

const quickInput = '.quick-input-widget';

/**
 * How long a helper waits for its condition by default. Generous: the machines are shared by several test
 * runs at once, and a wait for a condition costs nothing when the condition comes early.
 * PLANESCOPE_E2E_WAIT_MS overrides it.
 */
export const waitMs = Number(process.env.PLANESCOPE_E2E_WAIT_MS) || 30000;

/**
 * Functions passed to page.evaluate are compiled by tsx/esbuild, which wraps named inner functions in
 * `__name(...)` calls; give the page that helper (the identity) so they run there.
 */
export const pageShim = 'globalThis.__name = globalThis.__name || ((f) => f);';

export class Workbench {
  /** `workspaceRoot`: the opened folder's absolute path (lets openFile fall back to absolute paths). */
  constructor(readonly page: Page, readonly workspaceRoot?: string) {
    page.setDefaultTimeout(waitMs);
  }

  /** Waits until the workbench shows the workspace folder in the Explorer. */
  async waitUntilReady(folderName: string, timeoutMs = 6 * waitMs): Promise<void> {
    await this.page.locator('.monaco-workbench').waitFor({ timeout: timeoutMs });
    await this.page
      .locator('.explorer-folders-view .monaco-list-row')
      .first()
      .waitFor({ timeout: timeoutMs });
    await this.page.locator(`.pane-header[aria-label*="${folderName}" i], .pane-header:has-text("${folderName}")`).first().waitFor({ timeout: timeoutMs });
  }

  // ---------------------------------------------------------------- quick input (palette, quick open)

  private async openQuickInput(key: string, prefix: string): Promise<Locator> {
    const widget = this.page.locator(quickInput);
    const input = widget.locator('input.input');
    // A previous picker may still be open: close it first so that keys reach the workbench.
    if (await widget.isVisible()) {
      await this.page.keyboard.press('Escape');
      await widget.waitFor({ state: 'hidden' });
    }
    await this.page.keyboard.press(key);
    await input.waitFor({ state: 'visible' });
    await input.fill(prefix);
    return input;
  }

  private async closeQuickInput(): Promise<void> {
    const widget = this.page.locator(quickInput);
    if (await widget.isVisible()) {
      await this.page.keyboard.press('Escape');
      await widget.waitFor({ state: 'hidden' });
    }
  }

  /** Rows of the open quick input whose label is exactly `label`. */
  private quickPickRow(label: string): Locator {
    return this.page
      .locator(`${quickInput} .quick-input-list .monaco-list-row`)
      .filter({ visible: true })
      .filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) }) });
  }

  /** Labels of the rows the open quick input shows now. */
  private async quickPickLabels(): Promise<string[]> {
    const rows = this.page.locator(`${quickInput} .quick-input-list .monaco-list-row`).filter({ visible: true }).locator('.label-name');
    return (await rows.allInnerTexts()).map((t) => t.trim());
  }

  /**
   * Opens the palette on `filter` until a row labelled exactly `label` shows. The palette lists the commands
   * known when it opens, and an extension's contributions can arrive just after the window does: so a
   * miss reopens it, until `timeoutMs`.
   */
  private async paletteRow(filter: string, label: string, timeoutMs: number): Promise<Locator | undefined> {
    return this.quickOpenRow('F1', `>${filter}`, label, timeoutMs);
  }

  /**
   * Opens a quick input with `key`, types `value`, and waits for a row labelled exactly `label`. A miss
   * reopens it (its results are computed once per query: commands registered or files indexed later are not
   * added), waiting longer each time, until `timeoutMs`.
   */
  private async quickOpenRow(key: string, value: string, label: string, timeoutMs: number): Promise<Locator | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 2000; ; attempt *= 2) {
      await this.openQuickInput(key, value);
      const row = this.quickPickRow(label).first();
      const wait = Math.max(500, Math.min(attempt, deadline - Date.now()));
      if (await row.waitFor({ timeout: wait }).then(() => true, () => false)) return row;
      if (Date.now() >= deadline) return undefined;
    }
  }

  /** Runs a command by its palette title, e.g. 'Planescope: Show Version and Tool Status'. */
  async runCommand(title: string, timeoutMs = waitMs): Promise<void> {
    const row = await this.paletteRow(title, title, timeoutMs);
    if (!row) {
      const shown = await this.quickPickLabels();
      await this.closeQuickInput();
      throw new Error(`e2e: command '${title}' is not in the palette (it shows: ${shown.join(' | ') || 'nothing'})`);
    }
    await row.click();
    await this.quickInputLeft(`>${title}`);
  }

  /**
   * Waits until the quick input no longer shows `value`: it closed, or the command that ran opened its own
   * picker or input box (a quick pick, showInputBox, code-server's file dialog).
   */
  private async quickInputLeft(value: string): Promise<void> {
    await this.page.waitForFunction((shown) => {
      const widget = document.querySelector('.quick-input-widget') as HTMLElement | null;
      if (!widget || widget.style.display === 'none' || widget.offsetParent === null) return true;
      const input = widget.querySelector('input.input') as HTMLInputElement | null;
      return !input || input.value !== shown;
    }, value);
  }

  /** Labels of the items the open quick pick (of a command, showQuickPick, a file dialog) shows. */
  async quickInputItems(timeoutMs = waitMs): Promise<string[]> {
    await this.page.locator(`${quickInput} input.input`).waitFor({ state: 'visible', timeout: timeoutMs });
    await this.page.locator(`${quickInput} .quick-input-list .monaco-list-row`).filter({ visible: true }).first()
      .waitFor({ timeout: timeoutMs }).catch(() => undefined);
    return this.quickPickLabels();
  }

  /** Picks the item labelled exactly `label` in the open quick pick. */
  async pickQuickInputItem(label: string, timeoutMs = waitMs): Promise<void> {
    const value = await this.page.locator(`${quickInput} input.input`).inputValue();
    const row = this.quickPickRow(label).first();
    await row.waitFor({ timeout: timeoutMs }).catch(async () => {
      throw new Error(`e2e: the quick pick offers no '${label}' (it shows: ${(await this.quickPickLabels()).join(' | ') || 'nothing'})`);
    });
    await row.click();
    await this.quickInputLeft(value);
  }

  /** Types `text` into the open quick input or input box (replacing what is there) and presses Enter. */
  async fillQuickInput(text: string, timeoutMs = waitMs): Promise<void> {
    const input = this.page.locator(`${quickInput} input.input`);
    await input.waitFor({ state: 'visible', timeout: timeoutMs });
    await input.fill(text);
    await this.page.keyboard.press('Enter');
    await this.quickInputLeft(text);
  }

  /** Closes the open quick input (Escape), if any. */
  async dismissQuickInput(): Promise<void> {
    await this.closeQuickInput();
  }

  /**
   * The palette titles that match `filter` (VS Code's fuzzy match), e.g. paletteCommands('Planescope:').
   * With `expect`, waits (reopening the palette) until that exact title is among them.
   */
  async paletteCommands(filter: string, expect?: string, timeoutMs = waitMs): Promise<string[]> {
    if (expect) {
      await this.paletteRow(filter, expect, timeoutMs);
    } else {
      await this.openQuickInput('F1', `>${filter}`);
      await this.page.locator(`${quickInput} .quick-input-list .monaco-list-row`).first().waitFor({ timeout: timeoutMs }).catch(() => undefined);
    }
    const labels = await this.quickPickLabels();
    await this.closeQuickInput();
    return labels;
  }

  // ---------------------------------------------------------------- notifications

  /** Texts of the notification toasts now shown. */
  async notifications(): Promise<string[]> {
    const messages = this.page.locator('.notifications-toasts .notification-list-item-message');
    return (await messages.allInnerTexts()).map((t) => t.trim());
  }

  /** Waits for a notification toast whose text matches `pattern`; returns its text. */
  async waitForNotification(pattern: RegExp, timeoutMs = waitMs): Promise<string> {
    const toast = this.page.locator('.notifications-toasts .notification-list-item-message', { hasText: pattern }).first();
    await toast.waitFor({ timeout: timeoutMs }).catch(async () => {
      throw new Error(`e2e: no notification matching ${pattern} (shown: ${(await this.notifications()).join(' | ') || 'none'})`);
    });
    return (await toast.innerText()).trim();
  }

  // ---------------------------------------------------------------- editors

  /**
   * Opens a workspace file by its relative path (Quick Open) and waits until its editor shows it. Quick
   * Open's file search can lag on a loaded machine; then the absolute path, which Quick Open resolves
   * without searching, is tried.
   */
  async openFile(relativePath: string, timeoutMs = waitMs): Promise<void> {
    const name = relativePath.split('/').pop() as string;
    let row = await this.quickOpenRow('Control+P', relativePath, name, timeoutMs / 2);
    if (!row && this.workspaceRoot) {
      row = await this.quickOpenRow('Control+P', `${this.workspaceRoot}/${relativePath}`, name, timeoutMs / 2);
    }
    if (!row) {
      const shown = await this.quickPickLabels();
      await this.closeQuickInput();
      throw new Error(`e2e: Quick Open found no '${relativePath}' (it shows: ${shown.join(' | ') || 'nothing'})`);
    }
    await row.click();
    await this.page.locator(quickInput).waitFor({ state: 'hidden' });
    await this.page.locator(`.tabs-container .tab.active[aria-label^="${name}"]`).waitFor();
    await this.activeEditor().locator('.view-lines .view-line').first().waitFor();
  }

  private activeEditor(): Locator {
    return this.page.locator('.editor-group-container.active .editor-instance .monaco-editor').first();
  }

  /** Moves the cursor to `line` (Go to Line) so that VS Code renders it; waits until it is rendered. */
  async goToLine(line: number): Promise<void> {
    await this.openQuickInput('Control+G', `:${line}`);
    await this.page.keyboard.press('Enter');
    await this.page.locator(quickInput).waitFor({ state: 'hidden' });
    await this.lineNumberElement(line).waitFor();
  }

  private lineNumberElement(line: number): Locator {
    return this.activeEditor()
      .locator('.margin-view-overlays .line-numbers')
      .filter({ hasText: new RegExp(`^\\s*${line}\\s*$`) })
      .first();
  }

  /**
   * Reads what the active editor renders for `line` (1-based): background overlays, inline decoration
   * classes, before/after texts and gutter classes. Scrolls the line into view first.
   * Pass `waitFor` to wait until a condition on the result holds (decorations arrive asynchronously).
   */
  async lineDecorations(line: number, waitFor?: (d: LineDecorations) => boolean, timeoutMs = waitMs): Promise<LineDecorations> {
    await this.goToLine(line);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = await this.readLine(line);
      if (!waitFor || waitFor(result)) return result;
      if (Date.now() > deadline) {
        throw new Error(`e2e: line ${line} did not reach the expected decorations within ${timeoutMs} ms; last seen: ${JSON.stringify(result)}`);
      }
      // VS Code re-renders when decorations arrive.
      await this.domChange(this.activeEditor(), deadline);
    }
  }

  private async readLine(line: number): Promise<LineDecorations> {
    return this.activeEditor().evaluate((editor, lineNumber) => {
      const topOf = (el: Element): number => Math.round(el.getBoundingClientRect().top);
      const numbers = Array.from(editor.querySelectorAll('.margin-view-overlays .line-numbers'));
      const number = numbers.find((n) => n.textContent?.trim() === String(lineNumber));
      if (!number) throw new Error(`line ${lineNumber} is not rendered`);
      const top = topOf(number);
      const sameTop = (selector: string): Element[] =>
        Array.from(editor.querySelectorAll(selector)).filter((el) => Math.abs(topOf(el) - top) <= 1);
      const visible = (c: string): boolean => c !== '' && c !== 'none' && c !== 'normal';
      const unquote = (c: string): string => c.replace(/^"(.*)"$/s, '$1').replace(/\\"/g, '"');
      const transparent = (c: string): boolean => c === 'transparent' || /rgba\([^)]*,\s*0\)$/.test(c);
      const classesOf = (els: Element[]): string[] =>
        els.flatMap((el) => Array.from(el.classList)).filter((c, i, all) => all.indexOf(c) === i);

      const overlays = sameTop('.view-overlays > div').flatMap((row) => Array.from(row.children));
      const viewLine = sameTop('.view-lines .view-line')[0];
      const spans = viewLine ? Array.from(viewLine.querySelectorAll('span span, span')).filter((s) => s.children.length === 0) : [];
      const before: string[] = [];
      const after: string[] = [];
      for (const span of spans) {
        const b = getComputedStyle(span, '::before').content;
        const a = getComputedStyle(span, '::after').content;
        if (visible(b)) before.push(unquote(b));
        if (visible(a)) after.push(unquote(a));
      }
      const margin = sameTop('.margin-view-overlays > div').flatMap((row) => Array.from(row.children)).filter((el) => !el.classList.contains('line-numbers'));
      const glyphs = sameTop('.glyph-margin-widgets > div');
      const gutter = [...margin, ...glyphs];
      return {
        line: lineNumber,
        text: viewLine ? (viewLine.textContent ?? '').replace(/\u00a0/g, ' ') : '',
        overlayClasses: classesOf(overlays),
        backgrounds: overlays.map((el) => getComputedStyle(el).backgroundColor).filter((c) => !transparent(c)),
        inlineClasses: classesOf(spans),
        before,
        after,
        gutterClasses: classesOf(gutter),
        gutterIcons: gutter.map((el) => getComputedStyle(el).backgroundImage).filter((b) => b && b !== 'none'),
      };
    }, line);
  }

  /**
   * The coloured bands of the active editor's overview ruler (the decorations canvas at its right edge),
   * top to bottom, with the lines each covers estimated from the editor's scroll geometry (±1 line).
   * Pass `waitFor` to wait (frame by frame) until a condition on the bands holds.
   */
  async overviewRuler(waitFor?: (bands: RulerBand[]) => boolean, timeoutMs = waitMs): Promise<RulerBand[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const bands = await this.readOverviewRuler();
      if (!waitFor || waitFor(bands)) return bands;
      if (Date.now() > deadline) {
        throw new Error(`e2e: the overview ruler did not reach the expected state within ${timeoutMs} ms; last seen: ${JSON.stringify(bands)}`);
      }
      // The ruler is a canvas (no DOM mutation to observe): read it again on the next rendered frame.
      await this.page.evaluate(() => new Promise<void>((done) => requestAnimationFrame(() => done())));
    }
  }

  private async readOverviewRuler(): Promise<RulerBand[]> {
    return this.activeEditor().evaluate((editor) => {
      const canvas = editor.querySelector('canvas.decorationsOverviewRuler') as HTMLCanvasElement | null;
      if (!canvas) throw new Error('the editor has no overview ruler');
      const ctx = canvas.getContext('2d');
      if (!ctx) throw new Error('the overview ruler canvas has no 2d context');
      const { width, height } = canvas;
      const pixels = ctx.getImageData(0, 0, width, height).data;
      const x = Math.floor(width / 2);
      // Scroll geometry: the slider is to its track as the viewport is to the whole scrollable height.
      const scrollable = editor.querySelector('.editor-scrollable') as HTMLElement;
      const track = scrollable.querySelector('.scrollbar.vertical') as HTMLElement | null;
      const slider = track?.querySelector('.slider') as HTMLElement | null;
      const viewLine = editor.querySelector('.view-lines .view-line') as HTMLElement | null;
      const lineHeight = viewLine ? viewLine.getBoundingClientRect().height : 19;
      const viewport = scrollable.clientHeight;
      const scrollHeight = slider && track && slider.offsetHeight > 0 ? (viewport * track.offsetHeight) / slider.offsetHeight : viewport;
      const cssHeight = canvas.getBoundingClientRect().height;
      const lineAt = (y: number): number => Math.floor((((y + 0.5) / height) * cssHeight * (scrollHeight / cssHeight)) / lineHeight) + 1;
      const bands: { color: string; fromLine: number; toLine: number }[] = [];
      let current: { color: string; from: number; to: number } | undefined;
      const flush = (): void => {
        if (current) bands.push({ color: current.color, fromLine: lineAt(current.from), toLine: lineAt(current.to) });
        current = undefined;
      };
      for (let y = 0; y < height; y++) {
        const i = (y * width + x) * 4;
        const [r, g, b, a] = [pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3]];
        if (a === 0) {
          flush();
          continue;
        }
        const color = `rgb(${r}, ${g}, ${b})`;
        if (current && current.color === color) current.to = y;
        else {
          flush();
          current = { color, from: y, to: y };
        }
      }
      flush();
      return bands;
    });
  }

  /** The overview ruler colours whose band covers `line` (see overviewRuler). */
  async overviewRulerColorsAt(line: number, waitFor?: (colors: string[]) => boolean, timeoutMs = waitMs): Promise<string[]> {
    const at = (bands: RulerBand[]): string[] => bands.filter((b) => b.fromLine <= line && line <= b.toLine).map((b) => b.color);
    return at(await this.overviewRuler(waitFor && ((bands) => waitFor(at(bands))), timeoutMs));
  }

  /**
   * Hovers the text of `line` (at its first non-blank character, or at `column` when given) and returns the
   * text of the hover VS Code shows.
   */
  async hoverLine(line: number, column?: number): Promise<string> {
    await this.goToLine(line);
    const hover = this.page.locator('.monaco-hover:not(.hidden) .monaco-hover-content, .monaco-hover:not(.hidden) .hover-contents').first();
    // Move away first so that a hover left from before closes and a new one is computed.
    await this.page.mouse.move(1, 1);
    await this.page.keyboard.press('Escape');
    await hover.waitFor({ state: 'hidden' }).catch(() => undefined);
    const point = await this.activeEditor().evaluate((editor, { lineNumber, col }) => {
      const topOf = (el: Element): number => Math.round(el.getBoundingClientRect().top);
      const number = Array.from(editor.querySelectorAll('.margin-view-overlays .line-numbers')).find((n) => n.textContent?.trim() === String(lineNumber));
      if (!number) throw new Error(`line ${lineNumber} is not rendered`);
      const viewLine = Array.from(editor.querySelectorAll('.view-lines .view-line')).find((l) => Math.abs(topOf(l) - topOf(number)) <= 1) as HTMLElement;
      const text = viewLine.textContent ?? '';
      const index = col !== undefined ? col - 1 : Math.max(0, text.search(/\S/));
      // Find the text node holding character `index` and take the middle of that character.
      const walker = document.createTreeWalker(viewLine, NodeFilter.SHOW_TEXT);
      let offset = 0;
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const length = node.textContent?.length ?? 0;
        if (index < offset + length) {
          const range = document.createRange();
          range.setStart(node, index - offset);
          range.setEnd(node, index - offset + 1);
          const r = range.getBoundingClientRect();
          return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
        }
        offset += length;
      }
      const r = viewLine.getBoundingClientRect();
      return { x: r.left + 5, y: r.top + r.height / 2 };
    }, { lineNumber: line, col: column });
    await this.page.mouse.move(point.x, point.y, { steps: 2 });
    await hover.waitFor({ state: 'visible', timeout: waitMs }).catch(() => {
      throw new Error(`e2e: no hover appeared over line ${line}`);
    });
    // A hover may first show "Loading..." while providers answer.
    await this.page.waitForFunction(
      () => !/^\s*Loading\.\.\.\s*$/.test(document.querySelector('.monaco-hover:not(.hidden)')?.textContent ?? ''),
    );
    return (await hover.innerText()).trim();
  }

  // ---------------------------------------------------------------- views

  /** Whether a view (a pane such as 'Variables', or a container such as 'Run and Debug') is shown. */
  async isViewVisible(name: string): Promise<boolean> {
    const exact = new RegExp(`^\\s*${escapeRegExp(name)}\\s*$`, 'i');
    const pane = this.page.locator('.pane-header .title').filter({ hasText: exact }).filter({ visible: true });
    const container = this.page.locator('.part.sidebar .title-label h2, .part.panel .title-label h2, .part.auxiliarybar .title-label h2')
      .filter({ hasText: exact })
      .filter({ visible: true });
    return (await pane.count()) + (await container.count()) > 0;
  }

  /**
   * Shows a view by name (e.g. 'Explorer', 'Run and Debug', 'Tainted Pointer Sites') through Quick Open's
   * "view " picker, unless it is shown already.
   */
  async openView(name: string): Promise<void> {
    if (await this.isViewVisible(name)) return;
    await this.openQuickInput('Control+P', `view ${name}`);
    const row = this.quickPickRow(name).first();
    await row.waitFor({ timeout: waitMs }).catch(async () => {
      const shown = await this.quickPickLabels();
      await this.closeQuickInput();
      throw new Error(`e2e: no view named '${name}' (views offered: ${shown.join(' | ') || 'none'})`);
    });
    await row.click();
    await this.page.locator(quickInput).waitFor({ state: 'hidden' });
  }

  /** The pane (header + body) of a view, found by its title. */
  private pane(title: string): Locator {
    return this.page.locator('.pane').filter({
      has: this.page.locator('.pane-header .title', { hasText: new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`, 'i') }),
    }).first();
  }

  /** Waits until the DOM under `where` changes, for at most a second and never past `deadline`. */
  private async domChange(where: Locator, deadline: number): Promise<void> {
    await where.evaluate(
      (el, ms) => new Promise<void>((done) => {
        const observer = new MutationObserver(() => { observer.disconnect(); done(); });
        observer.observe(el, { subtree: true, childList: true, attributes: true, characterData: true });
        setTimeout(() => { observer.disconnect(); done(); }, ms);
      }),
      Math.min(1000, Math.max(0, deadline - Date.now())),
    );
  }

  /**
   * Items of a tree view, top to bottom as rendered (expanded children included). The view must be in a
   * visible container (use openView first); a collapsed pane is expanded. Waits for at least one item, or
   * until `until` holds: rows render one refresh at a time.
   */
  async treeItems(viewTitle: string, until?: (items: TreeItem[]) => boolean, timeoutMs = waitMs): Promise<TreeItem[]> {
    const pane = this.pane(viewTitle);
    await pane.waitFor({ timeout: timeoutMs });
    const header = pane.locator('.pane-header');
    if ((await header.getAttribute('aria-expanded')) === 'false') {
      await header.click();
      await this.page.waitForFunction((el) => el?.getAttribute('aria-expanded') === 'true', await header.elementHandle());
    }
    const body = pane.locator('.pane-body');
    const rows = body.locator('.monaco-list-row');
    await rows.first().waitFor({ timeout: timeoutMs });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const items = await rows.evaluateAll((els) =>
        els.map((row) => ({
          label: (row.querySelector('.label-name')?.textContent ?? row.querySelector('.monaco-icon-label')?.textContent ?? row.textContent ?? '').trim(),
          description: (row.querySelector('.label-description')?.textContent ?? '').trim(),
          depth: Number(row.getAttribute('aria-level') ?? '1'),
          expanded: row.hasAttribute('aria-expanded') ? row.getAttribute('aria-expanded') === 'true' : undefined,
        })),
      );
      if (!until || until(items)) return items;
      if (Date.now() > deadline) {
        throw new Error(`e2e: the ${viewTitle} view did not reach the expected state within ${timeoutMs} ms; last seen: ${JSON.stringify(items)}`);
      }
      await this.domChange(body, deadline);
    }
  }

  /** Expands (or collapses) the tree item `label` of a view and waits until VS Code shows it so. */
  async setTreeItemExpanded(viewTitle: string, label: string, expanded = true): Promise<void> {
    const row = this.pane(viewTitle)
      .locator('.pane-body .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) }) })
      .first();
    await row.waitFor();
    if ((await row.getAttribute('aria-expanded')) !== String(expanded)) {
      await row.locator('.monaco-tl-twistie').click();
      await this.page.waitForFunction(
        ({ el, want }) => el?.getAttribute('aria-expanded') === want,
        { el: await row.elementHandle(), want: String(expanded) },
      );
    }
  }

  // ---------------------------------------------------------------- explorer

  /**
   * The Explorer row of `path` ('trace', 'beta/extra/x.db': segments below the top level, whose folders
   * are expanded on the way). In a multi-root workspace the first segment is a workspace folder's name.
   */
  async explorerRow(path: string, timeoutMs = waitMs): Promise<Locator> {
    await this.openView('Explorer');
    const segments = path.split('/').filter((s) => s !== '');
    let row: Locator | undefined;
    for (let i = 0; i < segments.length; i++) {
      const level = i + 1;
      row = this.page
        .locator(`.explorer-folders-view .monaco-list-row[aria-level="${level}"]`)
        .filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(segments[i])}\\s*$`) }) })
        .first();
      await row.waitFor({ timeout: timeoutMs }).catch(() => {
        throw new Error(`e2e: the Explorer shows no '${segments.slice(0, level).join('/')}'`);
      });
      if (i < segments.length - 1 && (await row.getAttribute('aria-expanded')) === 'false') {
        await row.click();
        await this.page.waitForFunction((el) => el?.getAttribute('aria-expanded') === 'true', await row.elementHandle());
      }
    }
    return row as Locator;
  }

  /**
   * Right-clicks `path` in the Explorer and returns the labels of its context menu. With `expect`, the
   * menu is reopened until that label is in it: an extension's menu contributions arrive some seconds
   * after the Explorer shows (code-server scans the extensions in its own process), and a menu opened
   * before that lacks them.
   */
  async explorerContextMenu(path: string, expect?: string, timeoutMs = waitMs): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    const menu = this.page.locator('.context-view .monaco-menu');
    for (;;) {
      const row = await this.explorerRow(path, timeoutMs);
      await row.click({ button: 'right' });
      await menu.first().waitFor({ timeout: timeoutMs });
      const labels = (await menu.locator('.action-item:not(.disabled) .action-label').allInnerTexts()).map((t) => t.trim()).filter((t) => t !== '');
      if (!expect || labels.includes(expect)) return labels;
      await this.page.keyboard.press('Escape');
      await menu.first().waitFor({ state: 'hidden' });
      // No DOM change announces the contributions: reopening the menu is the probe.
      if (Date.now() > deadline) return labels;
    }
  }

  /** Runs the context-menu entry `label` of `path` in the Explorer (see explorerContextMenu). */
  async runExplorerContextCommand(path: string, label: string, timeoutMs = waitMs): Promise<void> {
    const labels = await this.explorerContextMenu(path, label, timeoutMs);
    if (!labels.includes(label)) {
      await this.page.keyboard.press('Escape');
      throw new Error(`e2e: the Explorer context menu of '${path}' has no '${label}' (it shows: ${labels.join(' | ')})`);
    }
    const menu = this.page.locator('.context-view .monaco-menu');
    const item = menu.locator('.action-item').filter({ has: this.page.locator('.action-label', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) }) }).first();
    // A click on a menu that has just opened can be taken for the end of the right-click and ignored; the
    // pointer focuses the entry, Enter runs it, as with the keyboard.
    await item.hover();
    await this.page.waitForFunction((el) => !!el?.classList.contains('focused'), await item.elementHandle());
    await this.page.keyboard.press('Enter');
    await menu.first().waitFor({ state: 'hidden' });
  }

  // ---------------------------------------------------------------- debugging

  /** Starts the launch configuration `name` (Quick Open's "debug " picker) and waits for the debug toolbar. */
  async startDebugging(name: string): Promise<void> {
    await this.openQuickInput('Control+P', `debug ${name}`);
    const row = this.quickPickRow(name).first();
    await row.waitFor({ timeout: waitMs }).catch(async () => {
      const shown = await this.quickPickLabels();
      await this.closeQuickInput();
      throw new Error(`e2e: launch configuration '${name}' not offered (offered: ${shown.join(' | ') || 'nothing'})`);
    });
    await row.click();
    await this.page.locator(quickInput).waitFor({ state: 'hidden' });
    await this.page.locator('.debug-toolbar').waitFor({ state: 'visible', timeout: 2 * waitMs });
  }

  /**
   * Waits until the debuggee is paused: the Call Stack shows a stack frame. Returns the top frame as VS Code
   * announces it, e.g. 'Stack Frame checksum, line 6, hello.c'.
   */
  async waitForPause(timeoutMs = 2 * waitMs): Promise<string> {
    await this.openView('Call Stack');
    const frame = this.page.locator('.debug-call-stack .monaco-list-row[aria-label^="Stack Frame"]').first();
    await frame.waitFor({ timeout: timeoutMs });
    return (await frame.getAttribute('aria-label')) ?? '';
  }

  /**
   * The rows of the Variables view as rendered (scopes and the variables of expanded scopes). With `until`,
   * waits (re-reading on each change of the view) until `until(rows)` holds; a number is a timeout alone.
   */
  async variables(until?: ((rows: VariableRow[]) => boolean) | number, timeoutMs = waitMs): Promise<VariableRow[]> {
    if (typeof until === 'number') [timeoutMs, until] = [until, undefined];
    await this.openView('Variables');
    const view = this.page.locator('.debug-variables').first();
    const rows = view.locator('.monaco-list-row');
    await rows.first().waitFor({ timeout: timeoutMs });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const shown = await rows.evaluateAll((els) =>
        els.map((row) => {
          const scope = row.querySelector('.scope');
          return {
            name: (scope?.textContent ?? row.querySelector('.expression .name')?.textContent ?? '').trim().replace(/\s*[=:]$/, ''),
            value: (row.querySelector('.expression .value')?.textContent ?? '').trim(),
            depth: Number(row.getAttribute('aria-level') ?? '1'),
            scope: !!scope,
            expanded: row.hasAttribute('aria-expanded') ? row.getAttribute('aria-expanded') === 'true' : undefined,
          };
        }),
      );
      if (!until || until(shown)) return shown;
      if (Date.now() > deadline) {
        throw new Error(`e2e: the Variables view did not reach the expected state within ${timeoutMs} ms; last seen: ${JSON.stringify(shown)}`);
      }
      await this.domChange(view, deadline);
    }
  }

  /**
   * Sets (or with `on` false removes) a breakpoint on `line` of the active editor with F9, and waits until
   * the glyph margin shows it so.
   */
  async toggleBreakpoint(line: number, on = true): Promise<void> {
    const has = (d: LineDecorations): boolean => d.gutterClasses.some((c) => /^codicon-debug-breakpoint/.test(c));
    if (has(await this.lineDecorations(line)) === on) return;
    await this.page.keyboard.press('F9');
    await this.lineDecorations(line, (d) => has(d) === on);
  }

  /** Expands a scope or variable of the Variables view by its name and waits until it is expanded. */
  async expandVariable(name: string): Promise<void> {
    const row = this.page
      .locator('.debug-variables .monaco-list-row')
      .filter({ has: this.page.locator('.scope, .expression .name', { hasText: new RegExp(`^\\s*${escapeRegExp(name)}\\s*[=:]?\\s*$`) }) })
      .first();
    await row.waitFor();
    if ((await row.getAttribute('aria-expanded')) !== 'true') {
      await row.locator('.monaco-tl-twistie').click();
      await this.page.waitForFunction((el) => el?.getAttribute('aria-expanded') === 'true', await row.elementHandle());
    }
  }

  /** Stops the debug session (Shift+F5) and waits until the debug toolbar is gone. */
  async stopDebugging(): Promise<void> {
    await this.runCommand('Debug: Stop');
    await this.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 2 * waitMs });
  }

  // ---------------------------------------------------------------- pictures

  /** Saves a screenshot of the whole window as PNG. */
  async screenshot(path: string): Promise<void> {
    await this.page.screenshot({ path });
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
