// wskit from TypeScript: a CDK Terrain (cdktn) app that instantiates the
// `websocket-service` Terraform module and synthesizes a Terraform/OpenTofu root module.
//
//   npm ci && npm run synth        # compile, then run this app with Node
//   npm run synth:cli              # through the cdktn CLI (`cdktn synth`) where it runs
//                                  # (Node >= 22.19, cdktn-cli installed); else the same run
//
// The output lands in cdktf.out/stacks/<stack>/cdk.tf.json; run `tofu init` / `terraform
// init` and `plan` there. Settings come from the environment (see README.md).
import * as fs from "node:fs";
import * as path from "node:path";

import { App, TerraformHclModule, TerraformOutput, TerraformStack } from "cdktn";
import { Construct } from "constructs";

/** What a team sets to deploy its own wskit service. */
export interface WebsocketServiceStackProps {
  /** Service name; prefixes every resource. */
  readonly name: string;
  readonly region: string;
  readonly stageName: string;
  /** Directory with <name>.zip for every lambda/<name>/wiring.json (./build.sh writes them). */
  readonly lambdaPackageDir: string;
  readonly jwksUri: string;
  readonly jwtIssuer: string;
  readonly jwtAudience: string[];
  readonly publicTopicPrefixes: string[];
  readonly logRetentionInDays: number;
  /** The wskit repository: the module reads lambda/<name>/wiring.json and protocol/protocol.json there. */
  readonly repositoryRoot: string;
  readonly tags: Record<string, string>;
}

export class WebsocketServiceStack extends TerraformStack {
  constructor(scope: Construct, id: string, modulesSource: string, props: WebsocketServiceStackProps) {
    super(scope, id);

    // The module only needs hashicorp/aws. Declaring it through the escape hatch keeps the
    // app free of generated provider bindings (`cdktn get`), which need registry access.
    this.addOverride("terraform.required_version", ">= 1.7");
    this.addOverride("terraform.required_providers.aws", {
      source: "hashicorp/aws",
      version: ">= 5.70, < 7.0",
    });
    this.addOverride("provider.aws", [
      {
        region: props.region,
        default_tags: [{ tags: props.tags }],
      },
    ]);

    const service = new TerraformHclModule(this, "websocket", {
      source: `${modulesSource}/websocket-service`,
      variables: {
        name: props.name,
        stage_name: props.stageName,
        lambda_package_dir: props.lambdaPackageDir,
        jwks_uri: props.jwksUri,
        jwt_issuer: props.jwtIssuer,
        jwt_audience: props.jwtAudience,
        public_topic_prefixes: props.publicTopicPrefixes,
        log_retention_in_days: props.logRetentionInDays,
        // The module is copied into the synthesized output, away from its repository, so it
        // is told where the wiring manifests and the protocol are.
        repository_root: props.repositoryRoot,
        tags: props.tags,
      },
    });

    new TerraformOutput(this, "wss_url", {
      description: "URL clients connect to (append ?token=<JWT>).",
      value: service.getString("wss_url"),
    });
    new TerraformOutput(this, "callback_url", {
      description: "Management API base URL for @connections calls.",
      value: service.getString("callback_url"),
    });
    new TerraformOutput(this, "http_api_url", {
      description: "Base URL of the HTTP API (history and publish over HTTPS; the client's httpUrl).",
      value: service.getString("http_api_url"),
    });
    new TerraformOutput(this, "table_name", {
      description: "The connections table.",
      value: service.getString("table_name"),
    });
  }
}

function setting(name: string, fallback: string): string {
  const value = process.env[name];
  return value === undefined || value === "" ? fallback : value;
}

function list(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

const exampleDir = path.resolve(__dirname, "..");
const modulesDir = path.resolve(setting("WSKIT_MODULES_DIR", path.join(exampleDir, "..", "modules")));
if (!fs.existsSync(path.join(modulesDir, "websocket-service", "main.tf"))) {
  throw new Error(
    `no websocket-service module under ${modulesDir}: run from terraform/cdktn-example in the wskit repository, or set WSKIT_MODULES_DIR to the terraform/modules directory`,
  );
}

// websocket-service calls its sibling modules by relative path, so every module directory
// is copied into one synthesized asset (cdktn's handling of local modules), keeping the
// output self-contained. Sources are relative to the working directory and start with ./
// or ../, as cdktn requires.
const relativeToCwd = (dir: string): string => {
  const rel = path.relative(process.cwd(), dir);
  return rel.startsWith(".") ? rel : `./${rel}`;
};
const moduleDirs = fs
  .readdirSync(modulesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => relativeToCwd(path.join(modulesDir, entry.name)));

const app = new App({ context: { cdktfRelativeModules: moduleDirs } });
new WebsocketServiceStack(app, setting("WSKIT_STACK_NAME", "wskit-dev"), relativeToCwd(modulesDir), {
  name: setting("WSKIT_SERVICE_NAME", "wskit-cdktn-dev"),
  region: setting("AWS_REGION", "eu-west-1"),
  stageName: setting("WSKIT_STAGE_NAME", "dev"),
  lambdaPackageDir: path.resolve(setting("WSKIT_LAMBDA_PACKAGE_DIR", path.join(exampleDir, "..", "..", "dist", "lambda"))),
  jwksUri: setting("WSKIT_JWKS_URI", "https://idp.example.com/.well-known/jwks.json"),
  jwtIssuer: setting("WSKIT_JWT_ISSUER", "https://idp.example.com/"),
  jwtAudience: list(setting("WSKIT_JWT_AUDIENCE", "wskit")),
  publicTopicPrefixes: list(setting("WSKIT_PUBLIC_TOPIC_PREFIXES", "public:")),
  logRetentionInDays: Number(setting("WSKIT_LOG_RETENTION_DAYS", "14")),
  repositoryRoot: path.resolve(setting("WSKIT_REPOSITORY_ROOT", path.join(exampleDir, "..", ".."))),
  tags: { Project: "wskit", ManagedBy: "cdktn" },
});
app.synth();
