/** Who signs in through a client: a store's customers, back-office staff, or nobody (machine to machine). */
export const CLIENT_KINDS = ['storefront', 'backoffice', 'service'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];
