'use strict';

function indexById(items) {
  return new Map(items.map((item) => [item.id, item]));
}

/**
 * Builds the rows of the monthly revenue report by joining paid orders to
 * their customers and account managers.
 *
 * @param {Array<{id: string, customerId: string, status: string, amountCents: number}>} orders
 * @param {Array<{id: string, name: string, region: string, managerId: ?string}>} customers
 * @param {Array<{id: string, name: string}>} managers
 */
function buildRevenueRows(orders, customers, managers) {
  const customersById = indexById(customers);
  const managersById = indexById(managers);
  const rows = [];

  for (const order of orders) {
    if (order.status !== 'paid') continue;

    const customer = customersById.get(order.customerId);
    if (!customer) continue;
    const manager = managersById.get(customer.managerId);

    rows.push({
      orderId: order.id,
      customerName: customer.name,
      region: customer.region,
      managerName: manager ? manager.name : 'Unassigned',
      amountCents: order.amountCents,
    });
  }
  return rows;
}

/**
 * Sums row amounts per region, largest first.
 */
function totalsByRegion(rows) {
  const totals = new Map();
  for (const row of rows) {
    totals.set(row.region, (totals.get(row.region) || 0) + row.amountCents);
  }
  return [...totals]
    .map(([region, amountCents]) => ({ region, amountCents }))
    .sort((a, b) => b.amountCents - a.amountCents);
}

module.exports = { buildRevenueRows, totalsByRegion };
