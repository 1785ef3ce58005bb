import type { JsonObject } from '../grafana';
import { collector } from './collector';
import { edgePipeline } from './edge-pipeline';
import { k6 } from './k6';
import { overview } from './overview';
import { service } from './service';

/** Every dashboard, written to dashboards/<uid>.json. */
export const dashboards: JsonObject[] = [overview, service, edgePipeline, collector, k6];
