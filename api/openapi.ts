import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { registerAlarmPaths } from './alarms/schema.js';
import { registerClassificationPaths } from './classify/schema.js';
import { registerDetectionPaths } from './detections/schema.js';
import { registerDocsPaths } from './docs/schema.js';
import { registerFacePaths } from './faces/schema.js';
import { registerHealthPaths } from './health/schema.js';
import { registerImagePaths } from './images/schema.js';
import { registerJobPaths } from './jobs/schema.js';
import { registerLatencyPaths } from './latency/schema.js';
import { registerMetricsPaths } from './metrics/schema.js';
import { securitySchemes } from './openapi-common.js';
import { registerDeliveryPaths } from './webhooks/schema.js';
import { registerVideoPaths } from './videos/schema.js';
import { registerVmsPaths } from './vms/schema.js';

/** Every resource registers its own paths next to the schemas that validate them. */
const resourcePaths = [registerAlarmPaths, registerDeliveryPaths, registerJobPaths, registerDetectionPaths, registerHealthPaths, registerMetricsPaths, registerDocsPaths, registerClassificationPaths, registerImagePaths, registerLatencyPaths, registerFacePaths, registerVmsPaths, registerVideoPaths];

/** The OpenAPI 3.1 document of the API, served at `/openapi.json`. */
export function buildOpenApiDocument() {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', securitySchemes.bearer, {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token (`npm run vigil -- token create`), as `Authorization: Bearer <token>`.',
  });
  registry.registerComponent('securitySchemes', securitySchemes.query, {
    type: 'apiKey',
    in: 'query',
    name: 'token',
    description: 'The same token as a query parameter, on GET only: any other method answers 401 to it, as tokens in URLs end up in logs.',
  });
  for (const register of resourcePaths) register(registry);
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Vigil API',
      version: '1.0.0',
      description:
        'AI alarm verification: submit the frames of an alarm, poll its job, export the verdict, receive it by signed webhook, ' +
        'and query the detections. Every JSON response is the envelope `{success, error, data}`, except under /api/detections, ' +
        'which answers its reference document\'s bare shapes (errors as `{"error": {...}}`); errors carry a stable `error.code`.',
    },
    tags: [
      { name: 'Alarms', description: 'Submit alarms and export their verdicts.' },
      { name: 'Classification', description: 'Classify alarm clips: safe, danger or intrusion.' },
      { name: 'Webhooks', description: 'Deliveries of a job\'s result.' },
      { name: 'Jobs', description: 'Jobs of every kind: erasure.' },
      { name: 'Detections', description: 'Query, search and edit detections.' },
      { name: 'Media analysis', description: 'Image batches and processing latency (bare JSON bodies, errors in the envelope).' },
      { name: 'Operations', description: 'Health, metrics and this documentation.' },
      { name: 'Faces', description: 'The account\'s face allowlist.' },
      { name: 'VMS', description: 'Events from a VMS (Ultinous AI Suite schema), the incidents Vigil verified, the VMS\'s cameras.' },
      { name: 'Videos', description: 'Submit videos and read their analysis: shots, activity, sections (bodies without the envelope).' },
    ],
  });
}
