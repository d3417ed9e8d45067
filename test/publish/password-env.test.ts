import { afterEach, describe, expect, it } from 'vitest';
import { parseMqttConfig, redactConfig } from '../../src/publish/mqtt-config.js';

const base = { url: 'mqtt://127.0.0.1:1883', line: 'l1', station: 's1', camera: 'c1', spool: { kind: 'memory' }, username: 'station' };

describe('mqtt passwordEnv', () => {
  afterEach(() => {
    delete process.env.MMAEREC_TEST_MQTT_PASSWORD;
  });

  it('takes the password from the named environment variable and never shows it in the redacted config', () => {
    process.env.MMAEREC_TEST_MQTT_PASSWORD = 's3cret-value';
    const c = parseMqttConfig({ ...base, passwordEnv: 'MMAEREC_TEST_MQTT_PASSWORD' });
    expect(c.password).toBe('s3cret-value');
    expect(JSON.stringify(redactConfig(c))).not.toContain('s3cret-value');
  });

  it('an unset variable, a bad name or both password and passwordEnv are one-line errors naming the field and fix', () => {
    expect(() => parseMqttConfig({ ...base, passwordEnv: 'MMAEREC_TEST_MQTT_PASSWORD' })).toThrow(
      'mqtt.passwordEnv names MMAEREC_TEST_MQTT_PASSWORD, which is not set in the environment: export it (e.g. in the service unit) or remove passwordEnv',
    );
    expect(() => parseMqttConfig({ ...base, passwordEnv: 'not a name' })).toThrow(/mqtt\.passwordEnv.*is not an environment variable name: give e\.g\. MQTT_PASSWORD/);
    process.env.MMAEREC_TEST_MQTT_PASSWORD = 'x';
    expect(() => parseMqttConfig({ ...base, password: 'y', passwordEnv: 'MMAEREC_TEST_MQTT_PASSWORD' })).toThrow(
      'mqtt.password and mqtt.passwordEnv are both set: keep one',
    );
  });
});
