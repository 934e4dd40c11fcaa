/**
 * The simulated Sequence resources: validation, state transitions and computed totals, one file per
 * resource over ./context.ts. Every method either returns the API response body or throws a
 * SimHttpError with Sequence's error body.
 */
import { type SimState } from '../store';
import { Prices, Products, TaxCategories } from './catalogue';
import { type LineTaxRule, type SimEvent, SimContext } from './context';
import { CreditNotes } from './credit-notes';
import { Customers } from './customers';
import { Invoices } from './invoices';
import { NotificationPolicies } from './notification-policies';
import { TaxRegistrations } from './tax-registrations';

export { type LineTaxRule, type SimEvent, type SimEventType } from './context';

export class SequenceResources {
  readonly customers: Customers;
  readonly products: Products;
  readonly prices: Prices;
  readonly taxCategories: TaxCategories;
  readonly invoices: Invoices;
  readonly creditNotes: CreditNotes;
  readonly taxRegistrations: TaxRegistrations;
  readonly policies: NotificationPolicies;

  constructor(state: () => SimState, now: () => number, emit: (event: SimEvent) => void, changed: () => void, lineTaxRule?: () => LineTaxRule) {
    const ctx = new SimContext(state, now, emit, changed, lineTaxRule);
    this.customers = new Customers(ctx, 'customers', 'Customer');
    this.products = new Products(ctx, 'products', 'Product');
    this.prices = new Prices(ctx, 'prices', 'Price');
    this.taxCategories = new TaxCategories(ctx, 'taxCategories', 'TaxCategory');
    this.invoices = new Invoices(ctx, 'invoices', 'Invoice');
    this.creditNotes = new CreditNotes(ctx, 'creditNotes', 'CreditNote');
    this.taxRegistrations = new TaxRegistrations(ctx, 'taxRegistrations', 'TaxRegistration');
    this.policies = new NotificationPolicies(ctx, 'policies', 'NotificationPolicy');
  }
}
