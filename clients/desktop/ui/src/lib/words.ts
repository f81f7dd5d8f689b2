// Which two recovery words the first run asks back: two different places, chosen at
// random so that a person cannot learn to skip the rest.

/** Two different places from 1 to `count`, in order. */
export function twoPlaces(count: number, random: () => number = uniform): [number, number] {
  if (count < 2) return [1, 1];
  const first = 1 + Math.floor(random() * count);
  let second = 1 + Math.floor(random() * (count - 1));
  if (second >= first) second += 1;
  return first < second ? [first, second] : [second, first];
}

function uniform(): number {
  const buffer = new Uint32Array(1);
  crypto.getRandomValues(buffer);
  return buffer[0] / 2 ** 32;
}
