import { modelConfigSchema } from '../model/config.js';
import { manifestSchema } from '../model/manifest.js';
import { mqttSinkOptionsSchema } from '../publish/mqtt-config.js';
import { schemaReference } from './reference.js';
import { jsonlSinkSchema, runConfigSchema, stdoutSinkSchema } from './schema.js';

/** docs/configuration.md: every setting of the run config, the MQTT sink, the network and the bundle manifest. */
export function configurationReference(): string {
  return [
    '# Configuration reference',
    '',
    'Generated from the zod schemas that validate these settings (`node --import tsx scripts/gen-config-reference.ts`;',
    'a test fails when this file is out of date). Unknown keys are errors. `examples/line.yaml` is a complete,',
    'commented `run` config.',
    '',
    '## `mmaerec-edge run --config <file>` (YAML or JSON)',
    '',
    schemaReference(runConfigSchema),
    '',
    '## JSON-lines sink (`sinks[]` with `type: jsonl`)',
    '',
    schemaReference(jsonlSinkSchema),
    '',
    '## stdout sink (`sinks[]` with `type: stdout`)',
    '',
    schemaReference(stdoutSinkSchema),
    '',
    '## MQTT sink (`sinks[]` with `type: mqtt` in the run config, `MqttSink.create(options)` in the SDK)',
    '',
    schemaReference(mqttSinkOptionsSchema),
    '',
    '## Network (`model:` in a train config, `create --config`)',
    '',
    schemaReference(modelConfigSchema),
    '',
    '## Bundle manifest (`manifest.json`)',
    '',
    schemaReference(manifestSchema),
    '',
  ].join('\n');
}
