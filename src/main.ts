/** `npm run start:behalf` (and the container's command): Behalf alone. */
import { launchMain } from './launch.js';

launchMain({ demoApps: false });
