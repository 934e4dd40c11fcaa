export { startSphereSimulator, DEFAULT_SPHERE_SIM_API_KEY, type SphereSimulator, type SphereSimulatorOptions } from './server';
export { SphereSimState, DEFAULT_FAULTS, type SimFaults, type SimRequestRecord } from './state';
export * from './tax-engine';
