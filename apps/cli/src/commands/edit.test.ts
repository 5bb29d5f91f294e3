import { describe, expect, it } from 'vitest';
import { ApiStatusError } from '../kube/rest';
import { editHeader, rejectionReason, stripComments } from './edit';

const configmaps = { resource: 'configmaps', group: '' };

describe('edit: reopening after a rejected save', () => {
  it("writes each failure as a comment block under the instructions, as kubectl's editor header", () => {
    const header = editHeader([{ head: 'configmaps "settings" was not valid', other: ['metadata.labels: Invalid value: "a b"', 'data: two\nlines'] }]);
    expect(header).toMatch(/^# Please edit the object below\./);
    expect(header.endsWith('#\n# configmaps "settings" was not valid:\n# * metadata.labels: Invalid value: "a b"\n# * data: two\n# lines\n#\n')).toBe(true);
    // Every line is a comment, so the header never reaches the server.
    expect(stripComments(header + 'a: 1\n')).toBe('a: 1\n');
    expect(editHeader([{ head: 'The edited file had a syntax error: x' }]).endsWith('#\n# The edited file had a syntax error: x\n#\n')).toBe(true);
  });

  it('names the invalid fields of a 422', () => {
    const invalid = new ApiStatusError(422, {
      message: 'ConfigMap "settings" is invalid: metadata.labels: Invalid value',
      details: { causes: [{ field: 'metadata.labels', message: 'Invalid value: "not a valid label"' }] },
    });
    expect(rejectionReason(invalid, configmaps, 'settings')).toEqual({ head: 'configmaps "settings" was not valid', other: ['metadata.labels: Invalid value: "not a valid label"'] });
    expect(rejectionReason(new ApiStatusError(422, { message: 'bad' }), { resource: 'deployments', group: 'apps' }, 'web')).toEqual({ head: 'deployments.apps "web" was not valid', other: ['bad'] });
  });

  it('says how to overwrite after a conflict, and gives up on errors an edit cannot fix', () => {
    const conflict = new ApiStatusError(409, { message: 'Operation cannot be fulfilled on configmaps "settings": the object has been modified' });
    const reason = rejectionReason(conflict, configmaps, 'settings', '10', '12');
    expect(reason?.head).toBe('configmaps "settings" could not be saved');
    expect(reason?.other?.[1]).toMatch(/set metadata\.resourceVersion to "12" \(yours is "10"\)/);
    expect(rejectionReason(conflict, configmaps, 'settings', '10', undefined)?.other).toHaveLength(1);
    expect(rejectionReason(new ApiStatusError(400, { message: 'cannot decode' }), configmaps, 'settings')).toEqual({ head: 'configmaps "settings" could not be saved', other: ['cannot decode'] });
    expect(rejectionReason(new ApiStatusError(404, { message: 'gone' }), configmaps, 'settings')).toBeUndefined();
    expect(rejectionReason(new ApiStatusError(403, { message: 'forbidden' }), configmaps, 'settings')).toBeUndefined();
  });
});
