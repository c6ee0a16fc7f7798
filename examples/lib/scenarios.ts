// The seed scenarios live in src/demo/ (synack demo runs them too); the examples import them from here.
export * from '../../src/demo/scenarios.js';
