/** One page of a list, as the API answers it. */
export interface Page<T = unknown> {
  data: T[];
  /** Asks for the next page as the `cursor` of the same list; null on the last. */
  next_cursor?: string | null;
  has_more?: boolean;
}

/** The type of a page's items. */
export type Item<P extends Page> = P extends Page<infer T> ? T : never;

/**
 * The answer of a list method: a Promise of one page, fetched when first
 * awaited; and an async iterable over every item of every page from there
 * on, each page fetched as the loop goes.
 *
 * ```ts
 * const page = await outlet.deliveries.list("acme", { limit: 10 });
 * for await (const d of outlet.deliveries.list("acme", { status: "failed" })) { … }
 * ```
 */
export class PageRequest<P extends Page> implements Promise<P>, AsyncIterable<Item<P>> {
  readonly [Symbol.toStringTag] = "PageRequest";

  readonly #fetch: (cursor: string | undefined) => Promise<P>;
  readonly #cursor: string | undefined;
  #first: Promise<P> | undefined;

  /** fetch answers the page at cursor (undefined for the first). */
  constructor(fetch: (cursor: string | undefined) => Promise<P>, cursor?: string) {
    this.#fetch = fetch;
    this.#cursor = cursor;
  }

  /** The page asked for, fetched once however often it is awaited. */
  then<R1 = P, R2 = never>(
    onfulfilled?: ((page: P) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.#first ??= this.#fetch(this.#cursor);
    return this.#first.then(onfulfilled, onrejected);
  }

  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<P | R> {
    return this.then(undefined, onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<P> {
    return this.then().finally(onfinally);
  }

  /** Every page from this one on, each fetched when the loop asks for it. */
  async *pages(): AsyncGenerator<P, void, undefined> {
    let cursor = this.#cursor;
    for (;;) {
      const page = await this.#fetch(cursor);
      yield page;
      const next = page.next_cursor;
      if (!page.has_more || !next || next === cursor) {
        return;
      }
      cursor = next;
    }
  }

  /** Every item of every page from this one on. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Item<P>, void, undefined> {
    for await (const page of this.pages()) {
      yield* page.data as Item<P>[];
    }
  }
}
