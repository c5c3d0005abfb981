import { z } from "zod";

/** An integer of at least `min`, with the error saying so. */
export const intAtLeast = (min: number) =>
  z
    .number({ error: `expected an integer ≥ ${min}` })
    .int({ error: `expected an integer ≥ ${min}` })
    .min(min, { error: `expected an integer ≥ ${min}` });

/** The name of an environment variable (one that holds a secret: never the secret itself), optional. */
export const envName = () =>
  z
    .string({ error: "expected an environment variable name" })
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "expected an environment variable name" })
    .optional();
