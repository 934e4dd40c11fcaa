/** Public surface of the Sphere client. */
export {
  SphereClient,
  type SphereClientOptions,
  DEFAULT_SPHERE_BASE_URL,
  KEY_CHECK_CUSTOMER_ID,
  SPHERE_ECHO_CHECKED,
  SPHERE_V1_READ_LIMIT,
  SPHERE_V1_WRITE_LIMIT,
  SPHERE_V1_WRITE_PACE,
  sphereKeyFingerprint,
} from './client';
export { SphereNotFoundError, SphereRateLimitedError, SPHERE_USER_ERROR_FIXES, mapSphereError, scrubSecret } from './errors';
export { calculateTaxMoney, v1Money, encodeCalculateTaxRequest, encodeCustomer, encodeProduct, encodeTransaction } from './codecs';
export {
  CalculateTaxRequestWireSchema,
  CalculateTaxResponseSchema,
  KNOWN_TAX_TYPES,
  percentageToDecimalString,
  type KnownTaxType,
  type SphereTaxAmount,
  type SphereTaxCalculation,
  type SphereTaxLine,
  type SphereTaxType,
} from './schemas';
export * from './types';
export * as SphereFieldNames from './field-names';
