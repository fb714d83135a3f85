/**
 * Status-list indexes taken from the database sequence a block at a time, so
 * listing a token needs no round trip of its own. Every index is handed out
 * once cluster-wide (the sequence); a block a process did not finish is a gap
 * of entries no token names, which read as VALID and mean nothing.
 */
import type { DataSource } from 'typeorm';

const BLOCK = 64;

export class IndexAllocator {
  private free: number[] = [];
  private refilling: Promise<void> | undefined;

  constructor(private readonly dataSource: Pick<DataSource, 'query'>) {}

  async next(): Promise<number> {
    for (;;) {
      const idx = this.free.pop();
      if (idx !== undefined) return idx;
      this.refilling ??= this.refill().finally(() => {
        this.refilling = undefined;
      });
      await this.refilling;
    }
  }

  private async refill(): Promise<void> {
    const rows = (await this.dataSource.query(`SELECT nextval('token_status_idx_seq') AS idx FROM generate_series(1, $1)`, [BLOCK])) as {
      idx: string;
    }[];
    // Handed out from the end: reversed, so a block is used in ascending order.
    this.free.push(...rows.map((row) => Number(row.idx)).reverse());
  }
}
