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
export class PageRequest {
    [Symbol.toStringTag] = "PageRequest";
    #fetch;
    #cursor;
    #first;
    /** fetch answers the page at cursor (undefined for the first). */
    constructor(fetch, cursor) {
        this.#fetch = fetch;
        this.#cursor = cursor;
    }
    /** The page asked for, fetched once however often it is awaited. */
    then(onfulfilled, onrejected) {
        this.#first ??= this.#fetch(this.#cursor);
        return this.#first.then(onfulfilled, onrejected);
    }
    catch(onrejected) {
        return this.then(undefined, onrejected);
    }
    finally(onfinally) {
        return this.then().finally(onfinally);
    }
    /** Every page from this one on, each fetched when the loop asks for it. */
    async *pages() {
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
    async *[Symbol.asyncIterator]() {
        for await (const page of this.pages()) {
            yield* page.data;
        }
    }
}
