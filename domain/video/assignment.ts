/**
 * Minimum-cost assignment of rows to columns (the Hungarian method, Jonker–Volgenant potentials form,
 * O(n²·m)). Pure; used to match tracks to detections.
 */

/**
 * For a rows × columns matrix of finite costs, the column each row is assigned to so the total cost is
 * least: every row gets a column when there are at least as many columns, otherwise every column gets a
 * row and the rest of the rows get -1.
 */
export function minCostAssignment(cost: readonly (readonly number[])[]): number[] {
  const rows = cost.length;
  const columns = rows === 0 ? 0 : cost[0]!.length;
  if (cost.some((row) => row.length !== columns)) throw new RangeError('every row needs the same number of columns');
  if (rows === 0 || columns === 0) return new Array<number>(rows).fill(-1);
  if (rows > columns) {
    const byColumn = minCostAssignment(Array.from({ length: columns }, (_, c) => cost.map((row) => row[c]!)));
    const assigned = new Array<number>(rows).fill(-1);
    byColumn.forEach((row, column) => (assigned[row] = column));
    return assigned;
  }
  // 1-based arrays: index 0 is the virtual start of each augmenting path.
  const u = new Float64Array(rows + 1);
  const v = new Float64Array(columns + 1);
  const rowOfColumn = new Int32Array(columns + 1);
  const way = new Int32Array(columns + 1);
  for (let row = 1; row <= rows; row++) {
    rowOfColumn[0] = row;
    let column0 = 0;
    const minSlack = new Float64Array(columns + 1).fill(Infinity);
    const used = new Uint8Array(columns + 1);
    do {
      used[column0] = 1;
      const row0 = rowOfColumn[column0]!;
      let delta = Infinity;
      let column1 = 0;
      for (let column = 1; column <= columns; column++) {
        if (used[column]) continue;
        const slack = cost[row0 - 1]![column - 1]! - u[row0]! - v[column]!;
        if (slack < minSlack[column]!) {
          minSlack[column] = slack;
          way[column] = column0;
        }
        if (minSlack[column]! < delta) {
          delta = minSlack[column]!;
          column1 = column;
        }
      }
      for (let column = 0; column <= columns; column++) {
        if (used[column]) {
          u[rowOfColumn[column]!]! += delta;
          v[column]! -= delta;
        } else {
          minSlack[column]! -= delta;
        }
      }
      column0 = column1;
    } while (rowOfColumn[column0] !== 0);
    do {
      const column1 = way[column0]!;
      rowOfColumn[column0] = rowOfColumn[column1]!;
      column0 = column1;
    } while (column0 !== 0);
  }
  const assigned = new Array<number>(rows).fill(-1);
  for (let column = 1; column <= columns; column++) {
    if (rowOfColumn[column]! > 0) assigned[rowOfColumn[column]! - 1] = column - 1;
  }
  return assigned;
}
