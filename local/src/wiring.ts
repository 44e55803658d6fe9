/**
 * The wiring manifests (`lambda/<name>/wiring.json`): each function's routes, the
 * environment it reads (variable -> setting key) and the AWS actions it calls. Terraform
 * builds the API from the same files; here they give the gateway its routes and each
 * function its environment, so neither can drift from what ships.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ACTIONS } from '@wskit/protocol';

export interface WiringManifest {
  /** The function's name: its folder under the wiring directory. */
  name: string;
  /** The file it came from (for messages). */
  file: string;
  routes: string[];
  /** HTTP API routes (`GET /topics/{topic}/messages`) and how each is authorized. */
  httpRoutes: HttpRoute[];
  /** Plus one route per protocol action. */
  protocolActionRoutes: boolean;
  twoWay: boolean;
  authorizer: boolean;
  /** Environment variable -> setting key. */
  environment: Record<string, string>;
  permissions: { dynamodb: string[]; dynamodbIndexes: string[]; manageConnections: string[]; fanOutQueue: string[] };
}

export interface HttpRoute {
  method: 'GET' | 'POST';
  /** The path template, e.g. `/topics/{topic}/messages`. */
  path: string;
  /** `token`: the wskit authorizer checks the Bearer token; `iam`: a SigV4 signature. */
  authorization: 'token' | 'iam';
}

const FUNCTION_NAME = /^[a-z][a-z0-9-]*$/;
const HTTP_ROUTE_KEY = /^(GET|POST) (\/[A-Za-z0-9_.{}/-]+)$/;

function httpRoutes(value: unknown, file: string): HttpRoute[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`${file}: httpRoutes must be a list of {key, authorization}`);
  return value.map((entry, index) => {
    const e = (entry && typeof entry === 'object' ? entry : {}) as Record<string, unknown>;
    const match = typeof e.key === 'string' ? HTTP_ROUTE_KEY.exec(e.key) : null;
    if (!match) throw new Error(`${file}: httpRoutes[${index}].key must be "GET|POST /path"`);
    if (e.authorization !== 'token' && e.authorization !== 'iam') throw new Error(`${file}: httpRoutes[${index}].authorization must be "token" or "iam"`);
    return { method: match[1] as 'GET' | 'POST', path: match[2]!, authorization: e.authorization };
  });
}
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function stringList(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`${where} must be a list of strings`);
  return value as string[];
}

/** Parses one manifest; throws with the file and field that are wrong. */
export function parseManifest(name: string, file: string, text: string): WiringManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not JSON: ${(err as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${file} must hold a JSON object`);
  const m = raw as Record<string, unknown>;
  const environment: Record<string, string> = {};
  if (m.environment !== undefined) {
    if (!m.environment || typeof m.environment !== 'object' || Array.isArray(m.environment)) throw new Error(`${file}: environment must be an object (variable -> setting key)`);
    for (const [variable, key] of Object.entries(m.environment)) {
      if (!ENV_NAME.test(variable)) throw new Error(`${file}: environment variable "${variable}" is not a valid name`);
      if (typeof key !== 'string' || key === '') throw new Error(`${file}: environment ${variable} must name a setting key (a string)`);
      environment[variable] = key;
    }
  }
  const permissions = (m.permissions && typeof m.permissions === 'object' ? m.permissions : {}) as Record<string, unknown>;
  return {
    name,
    file,
    routes: stringList(m.routes, `${file}: routes`),
    httpRoutes: httpRoutes(m.httpRoutes, file),
    protocolActionRoutes: m.protocolActionRoutes === true,
    twoWay: m.twoWay === true,
    authorizer: m.authorizer === true,
    environment,
    permissions: {
      dynamodb: stringList(permissions.dynamodb, `${file}: permissions.dynamodb`),
      dynamodbIndexes: stringList(permissions.dynamodbIndexes, `${file}: permissions.dynamodbIndexes`),
      manageConnections: stringList(permissions.manageConnections, `${file}: permissions.manageConnections`),
      fanOutQueue: stringList(permissions.fanOutQueue, `${file}: permissions.fanOutQueue`),
    },
  };
}

/** Every `<dir>/<name>/wiring.json`, sorted by name. */
export function readWiring(dir: string): WiringManifest[] {
  if (!existsSync(dir)) throw new Error(`no wiring manifests: ${dir} does not exist (pass wiringDir, the folder of <function>/wiring.json files)`);
  const manifests: WiringManifest[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory()) continue;
    const file = path.join(dir, entry.name, 'wiring.json');
    if (!existsSync(file)) continue;
    if (!FUNCTION_NAME.test(entry.name)) throw new Error(`${file}: the function name "${entry.name}" must be lowercase letters, digits and -`);
    manifests.push(parseManifest(entry.name, file, readFileSync(file, 'utf8')));
  }
  if (manifests.length === 0) throw new Error(`no wiring manifests in ${dir} (expected <function>/wiring.json files)`);
  return manifests;
}

/** Action aliases: route key -> the protocol action it stands for. */
export type ActionAliases = Record<string, string>;

const ALIAS_NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Parses `name=action` pairs (the `--action-alias` flag and the `action_aliases` setting). */
export function parseActionAliases(pairs: readonly string[]): ActionAliases {
  const aliases: ActionAliases = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new Error(`action alias "${pair}" must be <name>=<action>, e.g. chat_message=publish`);
    aliases[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return aliases;
}

export function validateActionAliases(aliases: ActionAliases, actions: readonly string[] = ACTIONS): void {
  for (const [name, action] of Object.entries(aliases)) {
    if (!ALIAS_NAME.test(name)) throw new Error(`action alias "${name}" must be 1-128 letters, digits and _ . : -`);
    if (actions.includes(name)) throw new Error(`action alias "${name}" is already a protocol action`);
    if (!actions.includes(action)) throw new Error(`action alias ${name}=${action}: "${action}" is not a protocol action (one of ${actions.join(', ')})`);
  }
}

/** The `action_aliases` setting: `chat_message=publish,...`, or undefined when there are none. */
export function actionAliasesSetting(aliases: ActionAliases): string | undefined {
  const pairs = Object.entries(aliases).map(([name, action]) => `${name}=${action}`);
  return pairs.length > 0 ? pairs.join(',') : undefined;
}

/**
 * Route key -> function, as the Terraform composition builds them: each manifest's routes,
 * one route per protocol action for the function that asks for them, and one per action
 * alias, to the function behind the action it stands for.
 */
export function routesFromWiring(manifests: readonly WiringManifest[], actions: readonly string[] = ACTIONS): Map<string, string> {
  const routes = new Map<string, string>();
  const owner = new Map<string, string>();
  const add = (key: string, m: WiringManifest) => {
    const existing = owner.get(key);
    if (existing !== undefined && routes.get(key) !== m.name) {
      throw new Error(`route ${key} is claimed by both ${existing} and ${m.file}`);
    }
    routes.set(key, m.name);
    owner.set(key, m.file);
  };
  for (const m of manifests) {
    for (const key of m.routes) add(key, m);
    if (m.protocolActionRoutes) for (const action of actions) add(action, m);
  }
  return routes;
}

/** Adds the alias routes: each goes to the function that serves the action (or $default). */
export function addAliasRoutes(routes: Map<string, string>, aliases: ActionAliases): void {
  for (const [name, action] of Object.entries(aliases)) {
    if (routes.has(name)) throw new Error(`action alias "${name}" is already a route`);
    const target = routes.get(action) ?? routes.get('$default');
    if (target === undefined) throw new Error(`action alias ${name}=${action}: no route serves "${action}" and there is no $default`);
    routes.set(name, target);
  }
}

/**
 * Setting key -> value. A key the map has is known to the gateway; its value undefined means
 * "not set here" and the variable is left out (the function's default applies).
 */
export type Settings = ReadonlyMap<string, string | undefined>;

/** Throws, naming the manifest and key, when a manifest reads a setting the gateway does not know. */
export function checkSettings(manifests: readonly WiringManifest[], settings: Settings): void {
  for (const m of manifests) {
    for (const [variable, key] of Object.entries(m.environment)) {
      if (!settings.has(key)) {
        throw new Error(
          `${m.file}: ${variable} reads the setting "${key}", which the local gateway does not know ` +
            `(known: ${[...settings.keys()].sort().join(', ')}); pass it with the settings option, or fix the manifest`,
        );
      }
    }
  }
}

/** The variables a manifest asks for, with the settings' values; unset settings are left out. */
export function environmentFromWiring(manifest: WiringManifest, settings: Settings): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [variable, key] of Object.entries(manifest.environment)) {
    if (!settings.has(key)) throw new Error(`${manifest.file}: ${variable} reads the unknown setting "${key}"`);
    const value = settings.get(key);
    if (value !== undefined) env[variable] = value;
  }
  return env;
}

/** A function granted DynamoDB actions talks to the table's endpoint. */
export function usesDynamoDb(manifest: WiringManifest): boolean {
  return manifest.permissions.dynamodb.length > 0 || manifest.permissions.dynamodbIndexes.length > 0;
}
