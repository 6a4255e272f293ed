/// <reference lib="dom" />
/**
 * Renders an HTML file in Debian's headless Chromium (driven by playwright-core, no browser
 * download) and measures one of the lab report's charts as laid out: its box, each series' point
 * count and drawn length, the live-balancer line and the event markers.
 */
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface RenderedChart {
  readonly found: boolean;
  readonly width: number;
  readonly height: number;
  readonly series: readonly { readonly label: string; readonly points: number; readonly length: number }[];
  readonly liveLength: number;
  readonly events: number;
  readonly screenshot: Buffer;
}

/** Renders `file` and measures the SVG chart with element id `id`. */
export async function renderChart(file: string, id = 'rps-chart'): Promise<RenderedChart> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 1200 } });
    await page.goto(`file://${file}`);
    const m = await page.evaluate((chartId) => {
      const svg = document.getElementById(chartId);
      if (svg === null) return { found: false, width: 0, height: 0, series: [], liveLength: 0, events: 0 };
      const box = svg.getBoundingClientRect();
      const series = Array.from(svg.querySelectorAll<SVGPolylineElement>('polyline.series')).map((p) => ({ label: p.getAttribute('data-label') ?? '', points: p.points.numberOfItems, length: p.getTotalLength() }));
      const live = svg.querySelector<SVGPolylineElement>('polyline.live');
      return { found: true, width: box.width, height: box.height, series, liveLength: live?.getTotalLength() ?? 0, events: svg.querySelectorAll('line.event').length };
    }, id);
    const screenshot = await page.screenshot({ fullPage: true });
    return { ...m, screenshot };
  } finally {
    await browser.close();
  }
}
