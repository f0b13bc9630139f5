export { ExitManager, ExitReason, NO_EXITS, GATE_SCALPER_EXITS, ML_SYSTEM_EXITS, type ExitConfig } from './ExitManager.js';
