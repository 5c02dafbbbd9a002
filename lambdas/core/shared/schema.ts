import { config, type core } from 'zod/mini';
import { en } from 'zod/locales';

/**
 * zod's functional API (`zod/mini`), for every schema Lambda code builds: import it as
 * `import * as z from './schema'`. The classic API hangs every method on every schema, so a
 * bundle carries all of zod's checks and its JSON Schema generator (about 90 KB); with the
 * functions esbuild keeps only what a schema calls. The same validation core runs underneath,
 * so issues, paths and codes are those of `zod`.
 *
 * `zod/mini` loads no locale and would report every issue as "Invalid input": the English
 * messages `zod` itself installs are installed here, so problem details read the same.
 */
config(en());

export * from 'zod/mini';

/** What a schema's `safeParse` reports when the value does not fit. */
export type SchemaError = core.$ZodError;
