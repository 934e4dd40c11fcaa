/**
 * The registry of facts about the real Sequence and Sphere APIs that their docs do not settle
 * (issue 13; evidence in ../shared/reference/real-api-evidence.md). Each entry says what is assumed,
 * where the code relies on it, where the running connector checks it (failing loudly with a stable
 * code) and how to confirm it against a real sandbox. README "Assumptions about the real APIs" lists
 * every id (a unit test keeps the two in step, and checks each runtime check exists where it says).
 * `sphere-connector verify` runs the live check of each entry (./checks.ts, keyed by id).
 */

export interface RuntimeCheck {
  /** File (from the repository root) holding the check. */
  where: string;
  /** The stable error code the check fails with. */
  errorCode: string;
  /** Where the running connector calls the check. */
  calledFrom: string[];
}

export interface Assumption {
  /** Stable id, e.g. `SEQ-LINE-TAX-RULE`. */
  id: string;
  upstream: 'sequence' | 'sphere';
  /** What is assumed. */
  statement: string;
  /** Where the code relies on it. */
  reliedOnAt: string[];
  /** Where it is checked as the connector runs; absent when being wrong is harmless (said in `ifWrong`). */
  runtimeCheck?: RuntimeCheck;
  /** What happens if the assumption is wrong. */
  ifWrong: string;
  /** How to confirm it against a Sequence sandbox / Sphere test organisation. */
  verify: string;
}

/** Every Sphere v1 write is compared with what Sphere echoes (and a void is read back). */
const SPHERE_ECHO_CHECK: RuntimeCheck = { where: 'shared/domain/echo-checks.ts', errorCode: 'sphere_field_not_accepted', calledFrom: ['shared/sphere/client.ts'] };

/** Checked on the tax calculation before anything is written to Sequence. */
const taxWriteCheck = (errorCode: string): RuntimeCheck => ({ where: 'shared/domain/tax-write-check.ts', errorCode, calledFrom: ['shared/tax/calculate.ts'] });

export const ASSUMPTIONS: readonly Assumption[] = [
  {
    id: 'SEQ-LINE-TAX-RULE',
    upstream: 'sequence',
    statement: 'A line taxRate is a fraction ("0.2" = 20 %) and Sequence computes totalTax = round half-up(netTotal × taxRate) to the currency decimals; the invoice totalTax is the sum of the lines.',
    reliedOnAt: ['shared/domain/sequence-tax-rule.ts', 'shared/domain/tax-rate.ts'],
    runtimeCheck: taxWriteCheck('sequence_tax_mismatch'),
    ifWrong: 'Every line PUT response and the invoice total are compared with Sphere; a difference fails the calculation (FAILED record, failure record) and the invoice is not finalised.',
    verify: 'PUT one draft line with taxRate "0.05" on netTotal "10.10" (0.505, a tie) and read totalTax (0.51 expected; half-even or truncation give 0.50, a percentage 0.01), then the invoice totalTax.',
  },
  {
    id: 'SEQ-WEBHOOK-SIGNATURE',
    upstream: 'sequence',
    statement: 'Sequence-Signature is t=<unix ms>,s=<hex HMAC-SHA256 of "<t>.<raw body>"> keyed with the webhook secret as given; retries are signed anew (timestamp tolerance 5 minutes, configurable).',
    reliedOnAt: ['shared/webhooks/signature.ts'],
    runtimeCheck: { where: 'shared/webhooks/ingest.ts', errorCode: 'stale_signature', calledFrom: ['functions/webhook-ingest/handler.ts'] },
    ifWrong: 'Deliveries are refused (401); an authentic but stale one is logged with its age, and the hourly reconcile sweep still brings every document to Sphere.',
    verify: 'Register a policy with the connector secret, trigger a customer update, check the raw request; return 500 once and read the retry timestamp.',
  },
  {
    id: 'SEQ-CUSTOMER-UPDATED-PAYLOAD',
    upstream: 'sequence',
    statement:
      "A CUSTOMER_UPDATED webhook's resource is the customer as GET/PUT returns it (id, legalName, address, taxStatus, archivedAt, integrationIds), so the echo of the connector's own tag PUT is recognised by its fingerprint.",
    reliedOnAt: ['shared/domain/customer-echo.ts', 'shared/webhooks/ingest.ts', 'shared/sync/workers.ts'],
    ifWrong: 'Harmless: an echo that is not recognised is synced like any change, costing two Sequence reads per customer; nothing is skipped wrongly.',
    verify: "Register a policy, PUT a customer and compare the CUSTOMER_UPDATED delivery's resource with the PUT response.",
  },
  {
    id: 'SEQ-MARK-AS-SENT-NO-WEBHOOK',
    upstream: 'sequence',
    statement: 'A document marked as sent without notification sends no webhook ("Integration syncs do not happen").',
    reliedOnAt: ['shared/tax/stuck-invoices.ts'],
    ifWrong: 'Harmless: such documents reach Sphere through the hourly reconcile sweep, up to an hour late.',
    verify: 'Mark a sandbox invoice as sent without notification and watch the webhook endpoint.',
  },
  {
    id: 'SEQ-REQUEST-ID-HEADER',
    upstream: 'sequence',
    statement: 'Sequence names the request in an X-Request-Id response header (undocumented).',
    reliedOnAt: ['shared/sequence/schemas/common.ts'],
    ifWrong: 'Harmless: audit entries lack the request id.',
    verify: 'Read the response headers of any Sequence call.',
  },
  {
    id: 'SPHERE-EXEMPTION-HONOURED',
    upstream: 'sphere',
    statement: 'Sphere returns no tax for a customer Sequence marks TAX_EXEMPT (tax_exempt: true) or REVERSE_CHARGED (tax id sent; reverse charge enabled in the Sphere account).',
    reliedOnAt: ['shared/domain/invoice-tax.ts'],
    runtimeCheck: taxWriteCheck('sphere_charged_exempt_customer'),
    ifWrong: 'Nothing is written to Sequence; the calculation fails with the fix (enable reverse charge / check the exemption in Sphere).',
    verify: 'calculate_tax for an EU business address with tax_id, then with tax_exempt: true; both must return empty tax_amounts.',
  },
  {
    id: 'SPHERE-REVERSE-CHARGE-NEEDS-TAX-ID',
    upstream: 'sphere',
    statement: 'Sphere applies reverse charge only when the request carries the buyer tax id.',
    reliedOnAt: ['shared/domain/invoice-tax.ts'],
    runtimeCheck: taxWriteCheck('reverse_charge_without_tax_id'),
    ifWrong: 'A REVERSE_CHARGED customer without a tax id is refused before any Sphere call (a user error).',
    verify: 'calculate_tax for an EU business address without tax_id returns VAT.',
  },
  {
    id: 'SPHERE-V1-CUSTOMER-FIELDS',
    upstream: 'sphere',
    statement: 'A v1 customer takes name, billing_address {address1, address2, city, state, postal_code, country}, tax_ids [{type, value}] and tax_exempt none|exempt|reverse, and echoes them.',
    reliedOnAt: ['shared/sphere/field-names.ts', 'shared/domain/customer-mapping.ts'],
    runtimeCheck: SPHERE_ECHO_CHECK,
    ifWrong: 'Every customer write is compared with the echo; a dropped or changed field fails the customer (and its invoices) naming the field and the value sent.',
    verify: 'POST /v1/customers with every field, then GET it back; or diff https://server.getsphere.com/v1/openapi.json against field-names.ts.',
  },
  {
    id: 'SPHERE-V1-PRODUCT-TAX-CODE-FIELD',
    upstream: 'sphere',
    statement: 'A v1 product takes its product tax code as tax_code, and echoes it.',
    reliedOnAt: ['shared/sphere/field-names.ts', 'shared/sync/ensure.ts'],
    runtimeCheck: SPHERE_ECHO_CHECK,
    ifWrong: 'The product write fails naming tax_code; nothing is taxed with a product Sphere holds without a code.',
    verify: 'POST /v1/products with tax_code set to a code from the Sphere UI, then GET it back.',
  },
  {
    id: 'SPHERE-V1-TRANSACTION-FIELDS',
    upstream: 'sphere',
    statement: 'A v1 transaction takes type, status, customer_id, original_transaction_id, currency, transaction_date and line_items [{product_id, amount}], and echoes them.',
    reliedOnAt: ['shared/sphere/field-names.ts', 'shared/tax/transactions.ts'],
    runtimeCheck: SPHERE_ECHO_CHECK,
    ifWrong: "The transaction record fails naming the field (the document's failure record); filing data is never silently wrong.",
    verify: 'POST /v1/transactions (finalized) with transaction_date, then GET it back.',
  },
  {
    id: 'SPHERE-V1-CANCELLED-STATUS',
    upstream: 'sphere',
    statement: 'POST /v1/transactions/{id}/cancel voids the transaction, whose status then reads "cancelled"; the cancel answer itself is not relied on.',
    reliedOnAt: ['shared/sphere/client.ts', 'shared/tax/transactions.ts'],
    runtimeCheck: SPHERE_ECHO_CHECK,
    ifWrong: 'The void is read back by GET; any other status fails the void naming it.',
    verify: 'Cancel a finalized test transaction and GET it.',
  },
  {
    id: 'SPHERE-TAX-CODES',
    upstream: 'sphere',
    statement: "Tax codes are the Sphere organisation's own product tax codes (there is no built-in default; txcd_… is Stripe's scheme).",
    reliedOnAt: ['shared/domain/tax-codes.ts', 'shared/domain/connection-input.ts'],
    runtimeCheck: { where: 'shared/connections/tax-codes-check.ts', errorCode: 'sphere_tax_code_not_accepted', calledFrom: ['shared/connections/create-connection.ts', 'shared/connections/test-connection.ts'] },
    ifWrong: 'Connect refuses, and "Test credentials" reports, every configured code Sphere does not accept (a calculate_tax quote on its stand-in product).',
    verify: 'POST /connections/{id}/test.',
  },
  {
    id: 'SPHERE-V1-PRODUCT-IN-CALCULATION',
    upstream: 'sphere',
    statement: "A product created through the v1 API is a product_id calculate_tax recognises, without a billing provider connected in Sphere (calculate_tax's prerequisite names the Products tab such a connection fills).",
    reliedOnAt: ['shared/sync/ensure.ts', 'shared/tax/calculate.ts'],
    ifWrong: "Visible, not silent: every calculation fails with Sphere's 400 (invalid_product_tax_code naming the product) on a failure record; no tax is written.",
    verify: 'POST /v1/products, then calculate_tax with that product_id.',
  },
  {
    id: 'SPHERE-RECORDED-TAX-MATCHES',
    upstream: 'sphere',
    statement: 'The tax Sphere computes when it records a finalized transaction equals the tax on the Sequence document.',
    reliedOnAt: ['shared/tax/transactions.ts'],
    ifWrong: 'Not an error: the difference is kept on the transaction record (documentTax, taxDifference) and listed with the failures as a warning (sphere_recorded_tax_differs).',
    verify: 'Record a finalized transaction for a taxed invoice and compare its tax with the invoice totalTax.',
  },
  {
    id: 'SPHERE-V1-LINE-QUANTITY-PRECISION',
    upstream: 'sphere',
    statement: 'A v1 transaction line takes the Sequence line quantity as sent, a usage quantity with up to 12 decimals included, and keeps it unchanged (it is informational: the tax follows amount).',
    reliedOnAt: ['shared/tax/transactions.ts', 'shared/sphere/field-names.ts'],
    runtimeCheck: SPHERE_ECHO_CHECK,
    ifWrong:
      "A refusal (400 naming line_items.N.quantity) fails the document with sphere_field_not_accepted naming the field and the value sent, not as the merchant's error; the connector must then round the quantity. A silently rounded quantity is harmless for the tax (not echo-checked at run time); only sphere-connector verify shows it.",
    verify: 'POST /v1/transactions with a line quantity of "1.123456789012", then GET it back.',
  },
  {
    id: 'SPHERE-CREDIT-WITHOUT-ORIGINAL',
    upstream: 'sphere',
    statement: 'A type credit transaction without original_transaction_id is accepted as a standalone credit (a Sequence credit note created from scratch).',
    reliedOnAt: ['shared/tax/transactions.ts'],
    ifWrong: "Visible, not silent: Sphere's 400 names original_transaction_id and the credit note keeps a failure record; invoice-linked credit notes are unaffected.",
    verify: 'POST /v1/transactions with type credit, status finalized and no original_transaction_id, then GET it.',
  },
  {
    id: 'SEQ-NATIVE-SPHERE-LINK',
    upstream: 'sequence',
    statement:
      "Sequence's own Sphere integration and Sphere's own Sequence connector leave a mark: a Sphere integration id on customers (other than the connector's own, the Sequence customer id) or prices, or a Sphere linked service on invoices.",
    reliedOnAt: ['shared/domain/native-integration.ts', 'shared/connections/native-integration.ts'],
    runtimeCheck: {
      where: 'shared/domain/native-integration.ts',
      errorCode: 'native_sphere_integration_detected',
      calledFrom: ['shared/connections/create-connection.ts', 'shared/connections/test-connection.ts', 'shared/sync/reconcile.ts', 'shared/tax/transactions.ts'],
    },
    ifWrong: 'A native link that leaves no such mark goes unnoticed and Sphere may count the same invoices twice; the README tells operators to run only one of them.',
    verify: "Connect Sequence's Sphere integration in a sandbox, let it sync one customer and one invoice, then read the customer's integrationIds and the invoice's linkedServices.",
  },
  {
    id: 'SPHERE-TAXABILITY-REASON-LOCATION',
    upstream: 'sphere',
    statement: 'With empty tax_amounts, taxability_reason sits on the line (else inside the first tax_rate).',
    reliedOnAt: ['shared/sphere/field-names.ts', 'shared/sphere/schemas.ts'],
    ifWrong: 'Harmless: the zero-tax reason is missing from the tax record; the tax is still right.',
    verify: 'calculate_tax with include_taxability_reason for an exempt customer.',
  },
  {
    id: 'SPHERE-REQUEST-ID-HEADER',
    upstream: 'sphere',
    statement: 'Sphere names the request in an X-Request-Id response header (undocumented; v1 429 bodies carry error.request_id).',
    reliedOnAt: ['shared/sphere/field-names.ts'],
    ifWrong: 'Harmless: audit entries lack the request id.',
    verify: 'Read the response headers of any Sphere call.',
  },
];
