/** The workflows a stoQ worker registers. Workflow code loads no plugins and no Node modules. */
export { scanWorkflow } from './scan';
export { payloadWorkflow } from './payload';
export { fanoutWorkflow } from './children';
export { retryWorkflow, retryChunkWorkflow } from './retry';
