import { seededRandom } from '../../bench/fleet/virtual-time';
/**
 * A realistic order of about the asked size, the same on every run: UUID-like ids from a seeded
 * generator, a customer and address, line items with SKUs, names, quantities and prices. A payload
 * of one repeated character would let any compression shrink it to nothing and flatter the
 * stored item size; this one compresses about as well as real JSON does.
 */

const PRODUCTS = [
  'Organic Arabica Coffee Beans 1kg', 'Stainless Steel French Press', 'Ceramic Pour-Over Dripper', 'Bamboo Cutting Board Large',
  'Cast Iron Skillet 28cm', 'Linen Tea Towel Set of 3', 'Glass Storage Jar 750ml', 'Chef Knife 20cm Damascus',
  'Silicone Baking Mat', 'Espresso Cup Pair', 'Electric Milk Frother', 'Wooden Salad Servers',
];
const CITIES = [['Lyon', 'FR', '69002'], ['Porto', 'PT', '4050-262'], ['Leipzig', 'DE', '04109'], ['Ghent', 'BE', '9000'], ['Bologna', 'IT', '40121']];
const NOTE_WORDS = ['please', 'leave', 'the', 'parcel', 'with', 'neighbour', 'at', 'number', 'door', 'code', 'ring', 'twice', 'back', 'gate', 'after', 'six'];
const NAMES = ['Camille Durand', 'Joana Ferreira', 'Lukas Wagner', 'Emma Peeters', 'Giulia Romano', 'Noah Jansen'];

function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

function lineItem(random: () => number, index: number, placedAt: number) {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const quantity = 1 + Math.floor(random() * 4);
  const unitPrice = Math.round(300 + random() * 9_700) / 100;
  return {
    lineId: uuidFrom(random),
    sku: `SKU-${Math.floor(random() * 1e6).toString().padStart(6, '0')}-${index}`,
    name: pick(PRODUCTS),
    quantity,
    unitPrice,
    total: Math.round(quantity * unitPrice * 100) / 100,
    addedAt: new Date(placedAt - Math.floor(random() * 3_600_000)).toISOString(),
  };
}

/** An order whose JSON is about `kb` KB (within one line item), plus the given extra fields. */
export function orderPayload(kb: number, extra: Record<string, unknown> = {}, seed = 22): Record<string, unknown> {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const placedAt = Date.UTC(2026, 10, 20, 9, 30) + Math.floor(random() * 86_400_000);
  const [city, country, postalCode] = pick(CITIES);
  const order: Record<string, unknown> = {
    ...extra,
    orderId: uuidFrom(random),
    customer: { id: uuidFrom(random), name: pick(NAMES), email: `customer${Math.floor(random() * 1e5)}@example.com` },
    shipTo: { street: `${1 + Math.floor(random() * 200)} Rue des Tanneurs`, city, postalCode, country },
    currency: 'EUR',
    placedAt: new Date(placedAt).toISOString(),
    items: [] as unknown[],
  };
  const items = order.items as unknown[];
  const target = kb * 1024;
  for (let index = 0; ; index++) {
    const next = lineItem(random, index, placedAt);
    if (items.length > 0 && Buffer.byteLength(JSON.stringify({ ...order, items: [...items, next] })) > target) break;
    items.push(next);
  }
  // A delivery note of ordinary words tops the order up to the size asked, as close as a word allows.
  const words: string[] = [];
  for (;;) {
    const word = pick(NOTE_WORDS);
    const size = Buffer.byteLength(JSON.stringify({ ...order, deliveryNote: [...words, word].join(' ') }));
    if (size > target) break;
    words.push(word);
  }
  if (words.length > 0) order.deliveryNote = words.join(' ');
  return order;
}
