export * from './http';
export * from './otlp-receiver';
export * from './ports';
export * from './service-process';
export * from './problem';
export * from './local-stack';
