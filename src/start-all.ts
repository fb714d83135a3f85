/** `npm start`: Behalf with the demo storefront, portal and orders API (development). */
import { launchMain } from './launch.js';

launchMain({ demoApps: true });
