import { describeStoreContract } from '../../src/storage/testing/store-contract.js';
import { createTestDatabase } from '../helpers/harness.js';

describeStoreContract('sqlite', () => createTestDatabase('sqlite'));
