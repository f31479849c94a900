import { LANES, runLane } from './suite.mjs';
LANES[3] = ['99-probe'];
await runLane(3);
