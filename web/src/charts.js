// The overview's pie charts, drawn with Apache ECharts (only the pie, the
// tooltip and the SVG renderer are bundled). Hovering a slice shows its
// count and share; clicking one calls onPick with the slice's filter. The
// chart is an image to assistive technology, labelled with its numbers;
// the legend next to it is a list of buttons that do the same as the slices,
// so everything works from the keyboard.
import * as echarts from 'echarts/core';
import { PieChart } from 'echarts/charts';
import { TooltipComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
import { h, num, pct } from './dom.js';

echarts.use([PieChart, TooltipComponent, SVGRenderer]);

const palette = ['#1f6feb', '#d4a72c', '#cf222e', '#8250df', '#1a7f37', '#bc4c00', '#0a7ea4', '#6e7781', '#bf3989', '#57606a'];

/**
 * pie draws one chart. slices: [{label, value, filter, color?}]; onPick(filter)
 * is called for a click on a slice or its legend button.
 */
export function pie(title, slices, onPick) {
  const total = slices.reduce((s, x) => s + x.value, 0);
  const chartEl = h('div', {
    class: 'pie',
    role: 'img',
    'aria-label': `${title}: ${slices.map((s) => `${s.label} ${num(s.value)}`).join(', ')}`,
  });
  const legend = h('ul', { class: 'legend' }, slices.map((s, i) => h('li', {},
    h('button', {
      type: 'button',
      class: 'legend-item',
      disabled: s.value === 0,
      dataset: { slice: s.label },
      title: `${s.label}: ${num(s.value)} (${pct(s.value, total)}). Show in the list`,
      onclick: () => onPick(s.filter),
    },
    h('span', { class: 'swatch', style: `background:${s.color ?? palette[i % palette.length]}`, 'aria-hidden': 'true' }),
    h('span', { class: 'legend-label', title: s.label }, s.label),
    h('span', { class: 'legend-count' }, num(s.value)),
    h('span', { class: 'visually-hidden' }, ` (${pct(s.value, total)})`)))));
  const figure = h('figure', { class: 'chart' }, h('figcaption', {}, title), chartEl, legend);

  // ECharts needs the element in the document to measure it.
  requestAnimationFrame(() => {
    if (!chartEl.isConnected) return;
    const chart = echarts.init(chartEl, null, { renderer: 'svg' });
    chart.setOption({
      animation: false,
      tooltip: {
        trigger: 'item',
        confine: true,
        formatter: (p) => `${escape(p.name)}<br><b>${num(p.value)}</b> licenses · ${p.percent.toFixed(1)}%`,
      },
      series: [{
        type: 'pie',
        radius: ['35%', '90%'],
        center: ['50%', '50%'],
        startAngle: 90,
        clockwise: true,
        avoidLabelOverlap: false,
        label: { show: false },
        labelLine: { show: false },
        emphasis: { scale: true, scaleSize: 4 },
        data: slices.map((s, i) => ({ name: s.label, value: s.value, itemStyle: { color: s.color ?? palette[i % palette.length] } })),
      }],
    });
    chart.on('click', (p) => onPick(slices[p.dataIndex].filter));
    const resize = new ResizeObserver(() => chart.resize());
    resize.observe(chartEl);
    chartEl.dispose = () => { resize.disconnect(); chart.dispose(); };
  });
  return figure;
}

/** disposeCharts releases the charts under el before it is replaced. */
export function disposeCharts(el) {
  for (const c of el.querySelectorAll('.pie')) c.dispose?.();
}

function escape(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
