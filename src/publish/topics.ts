import { MmaerecError } from '../errors.js';

/**
 * Topic layout. Templates use `{line}`, `{station}`, `{camera}` and, for heatmaps, `{eventId}`.
 * Defaults: `mmaerec/<line>/<station>/{defect,inspection,error,status,heatmap/<eventId>}`, so a dashboard can
 * subscribe to `mmaerec/+/+/defect` for defects only or `mmaerec/<line>/#` for everything of one line.
 * Each event is published once: a defect goes to `defect`, an ok result (with `publish: 'all'`) to `inspection`.
 */
export interface TopicLayout {
  defect: string;
  inspection: string;
  error: string;
  status: string;
  heatmap: string;
  /** Model swap outcomes (one per station). */
  model: string;
  /** Swap commands the station takes (`swap.commands`). */
  command: string;
}

export const DEFAULT_TOPIC_LAYOUT: TopicLayout = {
  defect: 'mmaerec/{line}/{station}/defect',
  inspection: 'mmaerec/{line}/{station}/inspection',
  error: 'mmaerec/{line}/{station}/error',
  status: 'mmaerec/{line}/{station}/status',
  heatmap: 'mmaerec/{line}/{station}/heatmap/{eventId}',
  model: 'mmaerec/{line}/{station}/model',
  command: 'mmaerec/{line}/{station}/model/command',
};

/** Which results are published: `defects` (defect verdicts and error records) or `all` (ok results too). */
export type PublishPolicy = 'defects' | 'all';

export interface SourceIds {
  line: string;
  station: string;
  camera: string;
}

/** The resolved topics of one camera. */
export interface Topics {
  defect: string;
  inspection: string;
  error: string;
  status: string;
  heatmap(eventId: string): string;
  model: string;
  command: string;
}

const PLACEHOLDER = /\{(\w+)\}/g;

/**
 * Resolves a layout for one camera. Throws E_CONFIG (naming the field) for ids or templates that would
 * produce an invalid or ambiguous topic: wildcards, empty levels, unknown placeholders.
 */
export function resolveTopics(ids: SourceIds, layout: Partial<TopicLayout> = {}, field = 'mqtt'): Topics {
  for (const [name, value] of Object.entries(ids)) checkId(`${field}.${name}`, value);
  const full: TopicLayout = { ...DEFAULT_TOPIC_LAYOUT, ...layout };
  for (const [name, template] of Object.entries(full) as [keyof TopicLayout, string][]) {
    checkTemplate(`${field}.topics.${name}`, template, name === 'heatmap');
  }
  const fill = (template: string, eventId?: string): string =>
    template.replace(PLACEHOLDER, (_, key: string) => (key === 'eventId' ? eventId! : ids[key as keyof SourceIds]));
  return {
    defect: fill(full.defect),
    inspection: fill(full.inspection),
    error: fill(full.error),
    status: fill(full.status),
    heatmap: (eventId: string) => fill(full.heatmap, eventId),
    model: fill(full.model),
    command: fill(full.command),
  };
}

function checkId(field: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0 || /[/+#\u0000]/.test(value)) {
    throw new MmaerecError('E_CONFIG', `${field} ${JSON.stringify(value)} cannot be part of an MQTT topic: use a non-empty id without "/", "+" or "#"`);
  }
}

function checkTemplate(field: string, template: string, needsEventId: boolean): void {
  const fix = `use a topic such as "${needsEventId ? DEFAULT_TOPIC_LAYOUT.heatmap : DEFAULT_TOPIC_LAYOUT.defect}"`;
  if (typeof template !== 'string' || template.length === 0 || /[+#\u0000]/.test(template) || template.split('/').some((l) => l === '')) {
    throw new MmaerecError('E_CONFIG', `${field} ${JSON.stringify(template)} is not a valid topic (wildcards and empty levels are not allowed): ${fix}`);
  }
  for (const [, key] of template.matchAll(PLACEHOLDER)) {
    const allowed = needsEventId ? ['line', 'station', 'camera', 'eventId'] : ['line', 'station', 'camera'];
    if (!allowed.includes(key!)) {
      throw new MmaerecError('E_CONFIG', `${field} uses unknown placeholder {${key}}: use only ${allowed.map((a) => `{${a}}`).join(', ')}`);
    }
  }
  if (needsEventId && !template.includes('{eventId}')) {
    throw new MmaerecError('E_CONFIG', `${field} must contain {eventId} so each image has its own topic: ${fix}`);
  }
}
