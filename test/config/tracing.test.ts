import { ConfigError, loadConfig } from '../../src/config';

const tracingOf = (env: Record<string, string>) => loadConfig(env).tracing;

describe('loadConfig(): tracing (OTEL_* variables)', () => {
  it('is off without an OTLP endpoint, whatever else is set', () => {
    expect(tracingOf({})).toBeNull();
    expect(tracingOf({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_TRACES_SAMPLER: 'nonsense' })).toBeNull();
  });

  it('appends /v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT and takes OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is', () => {
    expect(tracingOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({ url: 'http://collector:4318/v1/traces', protocol: 'http/protobuf', serviceName: 'rds-backup-graph' });
    expect(tracingOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example.com/base/' })?.url).toBe('https://otel.example.com/base/v1/traces');
    expect(tracingOf({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://jaeger:4318/custom' })?.url).toBe('http://jaeger:4318/custom');
    expect(tracingOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/v1/traces' })?.url).toBe('http://b:4318/v1/traces');
  });

  it('reads the protocol (the traces one first) and the service name', () => {
    const on = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(tracingOf({ ...on, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })?.protocol).toBe('http/json');
    expect(tracingOf({ ...on, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' })?.protocol).toBe('http/json');
    expect(tracingOf({ ...on, OTEL_SERVICE_NAME: 'backups-eu' })?.serviceName).toBe('backups-eu');
  });

  it('is off with OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none, an endpoint notwithstanding', () => {
    const on = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(tracingOf({ ...on, OTEL_SDK_DISABLED: 'true' })).toBeNull();
    expect(tracingOf({ ...on, OTEL_SDK_DISABLED: 'false' })).not.toBeNull();
    expect(tracingOf({ ...on, OTEL_TRACES_EXPORTER: 'none' })).toBeNull();
    expect(tracingOf({ ...on, OTEL_TRACES_EXPORTER: 'otlp' })).not.toBeNull();
  });

  it('accepts the standard samplers and batch settings the SDK reads', () => {
    expect(tracingOf({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1',
      OTEL_BSP_SCHEDULE_DELAY: '0', OTEL_BSP_MAX_QUEUE_SIZE: '4096', OTEL_EXPORTER_OTLP_TIMEOUT: '5000',
    })).not.toBeNull();
    for (const ratio of ['0', '1', '0.25', '.5', '1.0']) expect(tracingOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER_ARG: ratio })).not.toBeNull();
    expect(tracingOf({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'api-key=s%20ecret, x-tenant = blue,', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.version=1.2%2C3',
    })).not.toBeNull();
  });

  it.each([
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'], ['OTEL_EXPORTER_OTLP_ENDPOINT', 'grpc://collector:4317'], ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'not a url'],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc'], ['OTEL_EXPORTER_OTLP_PROTOCOL', 'http/xml'], ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'grpc'],
    ['OTEL_TRACES_SAMPLER', 'sometimes'], ['OTEL_TRACES_SAMPLER_ARG', '1.5'], ['OTEL_TRACES_SAMPLER_ARG', 'half'], ['OTEL_BSP_SCHEDULE_DELAY', '-1'],
    ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE', '0'], ['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'soon'], ['OTEL_SDK_DISABLED', 'perhaps'], ['OTEL_TRACES_EXPORTER', 'zipkin'],
    ['OTEL_EXPORTER_OTLP_HEADERS', 'api-key=x\r\nInjected: 1'], ['OTEL_EXPORTER_OTLP_HEADERS', 'api key=x'], ['OTEL_EXPORTER_OTLP_TRACES_HEADERS', 'garbage-no-equals'],
    ['OTEL_RESOURCE_ATTRIBUTES', 'garbage,x=1'], ['OTEL_RESOURCE_ATTRIBUTES', 'x=%ZZ'],
  ])('stops on a bad %s (%j) with tracing on, naming it', (name, value) => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', [name]: value };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });

  it('says that gRPC is not supported', () => {
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/^OTEL_EXPORTER_OTLP_PROTOCOL .*grpc is not supported/);
  });
});
