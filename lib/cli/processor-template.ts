/**
 * The files `herald processors new <type>` writes: a processor with its payload schema, one
 * retryable and one permanent failure, and a unit test of each behaviour that `npm test` runs.
 * Names derive from the type: `invoice.render` → `lambdas/processors/invoice-render.ts`
 * exporting `invoiceRender`, tested by `test/unit/processors/invoice-render.test.ts`.
 */

/** A request type: dot-separated lower-case words, e.g. `invoice.render` or `kyc.check-document`. */
export const PROCESSOR_TYPE_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?:\.[a-z][a-z0-9]*(?:-[a-z0-9]+)*)+$/;

export interface ProcessorNames {
  readonly type: string;
  /** kebab-case file name without extension. */
  readonly fileName: string;
  /** camelCase name of the exported processor. */
  readonly exportName: string;
  /** PascalCase prefix of the payload and result types. */
  readonly typeName: string;
  /** Words a customer reads on the status page: "Invoice render". */
  readonly displayName: string;
}

/** Derives every name the template needs from the request type. */
export function processorNames(type: string): ProcessorNames {
  const words = type.split(/[.-]/);
  const capital = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
  return {
    type,
    fileName: words.join('-'),
    exportName: words[0] + words.slice(1).map(capital).join(''),
    typeName: words.map(capital).join(''),
    displayName: capital(words.join(' ')),
  };
}

export function processorSource(names: ProcessorNames): string {
  const { type, exportName, typeName, displayName } = names;
  return `import { PermanentError, RetryableError, type Processor } from '../core/requests/processor';
import * as z from '../core/shared/schema';

/** Amounts above this are refused for good: the business rule that makes a permanent failure. */
export const ${constantName(names)}_LIMIT_CENTS = 1_000_000;

/**
 * What a \`${type}\` request carries. Submit checks it before anything is stored and answers 400
 * naming each bad field, so \`run\` only ever sees a valid payload. Bound every string, number and
 * array: the payload is stored with the request.
 */
const payloadSchema = z.strictObject({
  reference: z.string().check(z.minLength(1), z.maxLength(64)),
  amountCents: z.number().check(z.int(), z.gte(0), z.lte(100_000_000)),
  /** Lets you watch retries locally: the first N attempts fail as if the upstream were down. Remove it with the stand-in below. */
  failFirstAttempts: z._default(z.number().check(z.int(), z.gte(0), z.lte(5)), 0),
});

export type ${typeName}Payload = z.infer<typeof payloadSchema>;

/** What the request's \`result\` holds when it succeeds (at most 256 KiB of JSON). */
export interface ${typeName}Result {
  readonly reference: string;
  readonly amountCents: number;
}

/**
 * ${displayName}: replace the body of \`run\` with the real work. Throw \`RetryableError\` for
 * trouble that may pass (an upstream timeout, a 503, a throttle): the worker retries with
 * backoff, then the request ends \`failed\` and its message waits in the dead-letter queue.
 * Throw \`PermanentError\` for a refusal that would fail the same way again: the request ends
 * \`failed\` at once. Anything else thrown counts as retryable. \`run\` may run more than once for
 * one request (a retry, a worker lost after the work), so it must be idempotent: key effects on
 * \`context.requestId\`.
 */
export const ${exportName}: Processor<${typeName}Payload, ${typeName}Result> = {
  type: '${type}',
  displayName: '${displayName}',
  timeoutMs: 10_000,
  expectedSeconds: 1,
  schema: payloadSchema,
  async run(payload, { attempt, logger, signal }) {
    if (attempt <= payload.failFirstAttempts) {
      throw new RetryableError(\`The upstream is unavailable (attempt \${attempt})\`, '${snake(names)}_upstream_unavailable');
    }
    if (payload.amountCents > ${constantName(names)}_LIMIT_CENTS) {
      throw new PermanentError(
        \`The amount \${payload.amountCents} exceeds the limit of \${${constantName(names)}_LIMIT_CENTS} cents\`,
        '${snake(names)}_limit_exceeded',
      );
    }
    signal.throwIfAborted();
    logger.info('${displayName} done', { reference: payload.reference });
    return { reference: payload.reference, amountCents: payload.amountCents };
  },
};
`;
}

export function processorTestSource(names: ProcessorNames): string {
  const { type, fileName, exportName, typeName } = names;
  return `import { PermanentError, RetryableError, type ProcessorContext } from '../../../lambdas/core/requests/processor';
import { ${exportName}, ${constantName(names)}_LIMIT_CENTS, type ${typeName}Payload } from '../../../lambdas/processors/${fileName}';
import { processorRegistry } from '../../../lambdas/processors/registry';
import { noServices } from '../../support/test-processors';

/** What the worker hands a processor, for attempt \`attempt\`. */
function contextFor(attempt = 1): ProcessorContext {
  return {
    requestId: 'req_test',
    merchantId: 'mer_test',
    attempt,
    signal: new AbortController().signal,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    recordStep: () => undefined,
    services: noServices,
  };
}

/** A payload as submit hands it over: parsed by the schema, defaults applied. */
function payload(fields: Record<string, unknown>): ${typeName}Payload {
  return ${exportName}.schema.parse(fields);
}

describe('${type}', () => {
  it('returns its result for a valid payload', async () => {
    await expect(${exportName}.run(payload({ reference: 'inv-1', amountCents: 1250 }), contextFor())).resolves.toEqual({
      reference: 'inv-1',
      amountCents: 1250,
    });
  });

  it('refuses a payload without a reference or with a negative amount, naming each field', () => {
    const parsed = ${exportName}.schema.safeParse({ amountCents: -1 });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.path.join('/')).sort()).toEqual(['amountCents', 'reference']);
  });

  it('fails with a retryable error while the upstream is unavailable, and succeeds once it is back', async () => {
    const flaky = payload({ reference: 'inv-2', amountCents: 10, failFirstAttempts: 2 });
    await expect(${exportName}.run(flaky, contextFor(1))).rejects.toBeInstanceOf(RetryableError);
    await expect(${exportName}.run(flaky, contextFor(2))).rejects.toBeInstanceOf(RetryableError);
    await expect(${exportName}.run(flaky, contextFor(3))).resolves.toMatchObject({ reference: 'inv-2' });
  });

  it('fails with a permanent error for an amount over the limit', async () => {
    const tooMuch = payload({ reference: 'inv-3', amountCents: ${constantName(names)}_LIMIT_CENTS + 1 });
    await expect(${exportName}.run(tooMuch, contextFor())).rejects.toBeInstanceOf(PermanentError);
  });

  it('is registered, so submit accepts the type and the worker runs it', () => {
    expect(processorRegistry({ demoProcessors: false }).processorFor('${type}')).toBe(${exportName});
  });
});
`;
}

/**
 * Registers the processor in the registry's source: an import beside the others and an entry in
 * the business list. Returns undefined when the registry no longer has the shape this expects,
 * so the command can say what to add by hand instead of guessing.
 */
export function registerInRegistrySource(registry: string, names: ProcessorNames): string | undefined {
  const list = /const business: readonly Processor<any, unknown>\[\] = \[([^\]]*)\];/;
  const found = list.exec(registry);
  if (!found) return undefined;
  const entries = found[1]!.split(',').map((entry) => entry.trim()).filter(Boolean);
  const withEntry = registry.replace(list, `const business: readonly Processor<any, unknown>[] = [${[...entries, names.exportName].join(', ')}];`);
  return `import { ${names.exportName} } from './${names.fileName}';\n${withEntry}`;
}

function constantName(names: ProcessorNames): string {
  return names.fileName.replace(/-/g, '_').toUpperCase();
}

function snake(names: ProcessorNames): string {
  return names.fileName.replace(/-/g, '_');
}
