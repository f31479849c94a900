// Lane 1 of the UI tests (see suite.mjs): its own jupyter lab and Chromium.
import { runLane } from './suite.mjs';

await runLane(1);
