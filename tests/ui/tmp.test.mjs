import { LANES, runLane } from './suite.mjs';
LANES[3] = ['14-reactive-runs'];
await runLane(3);
