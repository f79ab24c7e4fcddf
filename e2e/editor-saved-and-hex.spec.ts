// The editor's packets saved by name survive a reload; typing over a byte in the hex view
// changes its field and the checksum follows.
import { expect, hex4, test, uniqueIdentifier } from './fixtures';

/** Ones' complement sum of 16-bit words: 0xffff over a region with a correct checksum. */
function onesComplementSum(bytes: number[]): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) + (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

test('save the edited packet by name, reload, load it back by name, delete it', async ({ app }) => {
  const id = uniqueIdentifier();
  const name = `echo ${hex4(id)}`;
  await app.getByLabel('Template').selectOption({ label: 'ICMP echo request' });
  await app.getByRole('button', { name: 'Load template' }).click();
  await app.getByLabel('ICMP Identifier', { exact: true }).fill(hex4(id));
  await app.getByLabel('IPv4 Time to live', { exact: true }).fill('7');
  await app.getByLabel('Payload text', { exact: true }).fill('saved by name');
  const saved = app.getByLabel('Saved', { exact: true });
  await expect(saved).toBeDisabled();
  await app.getByLabel('Save as').fill(name);
  await app.getByRole('button', { name: 'Save packet' }).click();
  await expect(saved).toHaveValue(name);

  await app.reload();
  await expect(app.getByRole('tab', { name: 'Log' })).toBeVisible();
  // The editor keeps the packet being edited across a reload, and the saved packet is still listed.
  await expect(app.getByLabel('ICMP Identifier', { exact: true })).toHaveValue(hex4(id));
  await expect(saved.getByRole('option', { name })).toHaveCount(1);
  await app.getByLabel('Template').selectOption({ label: 'TCP SYN' });
  await app.getByRole('button', { name: 'Load template' }).click();
  await expect(app.getByRole('region', { name: 'ICMP layer' })).toHaveCount(0);

  await saved.selectOption(name);
  await app.getByRole('button', { name: 'Load saved' }).click();
  await expect(app.getByLabel('ICMP Identifier', { exact: true })).toHaveValue(hex4(id));
  await expect(app.getByLabel('IPv4 Time to live', { exact: true })).toHaveValue('7');
  await expect(app.getByLabel('Payload text', { exact: true })).toHaveValue('saved by name');
  await expect(app.getByRole('region', { name: 'TCP layer' })).toHaveCount(0);

  await app.getByRole('button', { name: 'Delete saved' }).click();
  await expect(saved.getByRole('option', { name })).toHaveCount(0);
  await expect(saved).toBeDisabled();
  await app.reload();
  await expect(app.getByRole('tab', { name: 'Log' })).toBeVisible();
  await expect(app.getByLabel('Saved', { exact: true }).getByRole('option', { name })).toHaveCount(0);
});

test('typing two hex digits over a byte changes its field and the checksum follows', async ({ app }) => {
  await app.getByLabel('Template').selectOption({ label: 'ICMP echo request' });
  await app.getByRole('button', { name: 'Load template' }).click();
  const identifier = app.getByLabel('ICMP Identifier', { exact: true });
  const checksum = app.getByLabel('ICMP Checksum', { exact: true });
  await expect(identifier).toHaveValue('0x1234');
  const before = await checksum.inputValue();

  // Byte 24 is the identifier's high byte (20-byte IPv4 header, then type, code, checksum).
  const hex = app.getByRole('grid', { name: 'Packet hex' });
  await hex.getByRole('gridcell', { name: 'Byte 24: 12' }).click();
  await expect(hex).toBeFocused();
  // The byte selects its field: the identifier's two bytes light up, and no others.
  const lit = hex.getByRole('gridcell', { selected: true });
  await expect(lit).toHaveCount(2);
  await expect(lit.nth(0)).toHaveAccessibleName('Byte 24: 12');
  await expect(lit.nth(1)).toHaveAccessibleName('Byte 25: 34');
  await app.keyboard.press('a');
  await app.keyboard.press('B');

  await expect(identifier).toHaveValue('0xab34');
  await expect(hex.getByRole('gridcell', { name: 'Byte 24: ab' })).toBeVisible();
  // The checksum stayed automatic and was recomputed: the ICMP message sums to 0xffff.
  await expect(app.getByLabel('ICMP Checksum automatic')).toBeChecked();
  await expect(checksum).not.toHaveValue(before);
  const packet = (await app.getByLabel('Packet as hex (paste a whole packet)').inputValue()).trim().split(/\s+/).map((h) => parseInt(h, 16));
  expect(packet[24]).toBe(0xab);
  expect(onesComplementSum(packet.slice(20))).toBe(0xffff);
  expect(`0x${((packet[22] << 8) | packet[23]).toString(16).padStart(4, '0')}`).toBe(await checksum.inputValue());
  // The text payload is still text, and the cursor moved on to the next byte.
  await expect(app.getByLabel('Payload text', { exact: true })).toHaveValue('packet workbench');
  const next = await hex.getByRole('gridcell', { name: 'Byte 25: 34' }).getAttribute('id');
  await expect(hex).toHaveAttribute('aria-activedescendant', next!);

  // Typing over a checksum byte is setting the checksum by hand.
  await app.keyboard.press('ArrowLeft');
  await app.keyboard.press('ArrowLeft');
  await app.keyboard.press('ArrowLeft');
  await app.keyboard.press('0');
  await app.keyboard.press('0');
  await expect(app.getByLabel('ICMP Checksum automatic')).not.toBeChecked();
  await expect(hex.getByRole('gridcell', { name: 'Byte 22: 00' })).toBeVisible();
});
