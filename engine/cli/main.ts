export async function main(_argv: string[]): Promise<void> {
  console.log('0.1.0');
}
